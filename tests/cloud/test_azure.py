"""Azure NSGs, one rule at a time: subnet and NIC NSGs, priorities, defaults, service tags."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.cloud import azure, model

from .build import DB, NODE_A, doc

D = model.Decision
SUB = "/subscriptions/0000/resourceGroups/rg-prod/providers/Microsoft.Network"
SUBNET_NODES = f"{SUB}/virtualNetworks/vnet/subnets/nodes"
SUBNET_DB = f"{SUB}/virtualNetworks/vnet/subnets/db"


def nic(name: str, ip: str, subnet: str, nsg: str = "", asgs: tuple[str, ...] = ()) -> dict:
    out: dict[str, Any] = {
        "type": "Microsoft.Network/networkInterfaces",
        "name": name,
        "id": f"{SUB}/networkInterfaces/{name}",
        "ipConfigurations": [
            {
                "privateIPAddress": ip,
                "subnet": {"id": subnet},
                "applicationSecurityGroups": [
                    {"id": f"{SUB}/applicationSecurityGroups/{a}"} for a in asgs
                ],
            }
        ],
    }
    if nsg:
        out["networkSecurityGroup"] = {"id": f"{SUB}/networkSecurityGroups/{nsg}"}
    return out


def rule(
    name: str,
    priority: int,
    *,
    access: str = "Allow",
    direction: str = "Inbound",
    src: str = "*",
    dst: str = "*",
    port: str = "5432",
    proto: str = "Tcp",
    **more,
):
    return {
        "name": name,
        "priority": priority,
        "access": access,
        "direction": direction,
        "protocol": proto,
        "sourceAddressPrefix": src,
        "destinationAddressPrefix": dst,
        "sourcePortRange": "*",
        "destinationPortRange": port,
        **more,
    }


def nsg(name: str, rules: list[dict[str, Any]], *, subnets: tuple[str, ...] = ()) -> dict:
    return {
        "type": "Microsoft.Network/networkSecurityGroups",
        "name": name,
        "id": f"{SUB}/networkSecurityGroups/{name}",
        "resourceGroup": "rg-prod",
        "securityRules": rules,
        "subnets": [{"id": s} for s in subnets],
    }


def answer(
    subnet_rules=None,
    nic_rules=None,
    *,
    vnet: bool = True,
    src: str = NODE_A,
    node_rules=None,
    arm: bool = False,
) -> model.Answer:
    nsgs = [nsg("nsg-db-subnet", subnet_rules or [], subnets=(SUBNET_DB,))]
    if nic_rules is not None:
        nsgs.append(nsg("nsg-db-nic", nic_rules))
    if node_rules is not None:
        nsgs.append(nsg("nsg-nodes", node_rules, subnets=(SUBNET_NODES,)))
    nics = [
        nic("node-a-nic", NODE_A, SUBNET_NODES, asgs=("asg-nodes",)),
        nic("db-nic", DB, SUBNET_DB, "nsg-db-nic" if nic_rules is not None else ""),
    ]
    if arm:  # the REST shape: everything under "properties"
        nsgs = [
            {
                "type": n["type"],
                "name": n["name"],
                "id": n["id"],
                "properties": {k: v for k, v in n.items() if k not in ("type", "name", "id")},
            }
            for n in nsgs
        ]
    docs = [doc("azure", nsgs, "nsg.json"), doc("azure", nics, "nic.json")]
    if vnet:
        docs.append(
            doc(
                "azure",
                [
                    {
                        "type": "Microsoft.Network/virtualNetworks",
                        "name": "vnet",
                        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                    }
                ],
                "vnet.json",
            )
        )
    return azure.evaluate(docs, model.Flow(src=src, dst=DB, port=5432))


def test_default_allow_vnet_inbound():
    a = answer([])
    assert a.decision is D.ALLOW
    assert any(s.rule.startswith("AllowVnetInBound (priority 65000") for s in a.steps)


def test_default_deny_all_inbound_for_the_internet():
    a = answer([], src="203.0.113.7")
    assert a.decision is D.DENY
    assert a.deciding.rule.startswith("DenyAllInBound (priority 65500")


def test_custom_deny_before_the_default_allow():
    a = answer([rule("deny-pg", 200, access="Deny")])
    assert a.decision is D.DENY
    assert a.deciding.rule.startswith("deny-pg (priority 200")


def test_lower_priority_number_wins():
    allow_first = answer(
        [rule("allow-pg", 100, src="10.0.1.0/24"), rule("deny-pg", 200, access="Deny")]
    )
    assert allow_first.decision is D.ALLOW


def test_subnet_and_nic_nsg_both_apply():
    a = answer([], [rule("deny-pg", 100, access="Deny")])
    assert a.decision is D.DENY
    assert "NSG nsg-db-nic (NIC of db-nic, inbound)" in a.deciding.layer
    order = [s.layer for s in a.steps if "inbound" in s.layer]
    assert order[0].startswith("NSG nsg-db-subnet") and order[1].startswith("NSG nsg-db-nic")


def test_outbound_nsg_of_the_source_subnet():
    a = answer([], node_rules=[rule("no-pg-out", 100, access="Deny", direction="Outbound")])
    assert a.decision is D.DENY
    assert "NSG nsg-nodes (subnet of node-a-nic, outbound)" in a.deciding.layer


@pytest.mark.parametrize(
    ("src_prefix", "expected"),
    [
        ("VirtualNetwork", D.DENY),
        ("Internet", D.ALLOW),
        ("AzureLoadBalancer", D.ALLOW),
    ],
)
def test_service_tags(src_prefix, expected):
    # a deny for the tag at 100: only denies when the tag holds the node's address
    a = answer([rule("deny-tag", 100, access="Deny", src=src_prefix)])
    assert a.decision is expected


def test_load_balancer_tag_is_the_platform_address():
    a = answer(
        [rule("lb", 100, src="AzureLoadBalancer"), rule("deny", 200, access="Deny")],
        src="168.63.129.16",
    )
    assert a.decision is D.ALLOW


def test_prefixes_list_and_port_ranges():
    a = answer(
        [
            rule(
                "allow",
                100,
                src="",
                sourceAddressPrefixes=["10.9.0.0/16", "10.0.1.0/24"],
                port="",
                destinationPortRanges=["5000-6000"],
            ),
            rule("deny", 200, access="Deny"),
        ]
    )
    assert a.decision is D.ALLOW


def test_application_security_groups():
    asg = [{"id": f"{SUB}/applicationSecurityGroups/asg-nodes"}]
    a = answer(
        [
            rule("asg", 100, src="", sourceApplicationSecurityGroups=asg),
            rule("deny", 200, access="Deny"),
        ]
    )
    assert a.decision is D.ALLOW


def test_unknown_service_tag_is_unknown():
    a = answer([rule("sql", 100, access="Deny", src="Sql")])
    assert a.decision is D.UNKNOWN


def test_without_vnet_file_listed_nics_are_in_the_virtual_network():
    assert answer([], vnet=False).decision is D.ALLOW


def test_rest_shape_with_properties_reads_the_same():
    assert answer([rule("deny-pg", 200, access="Deny")], arm=True).decision is D.DENY


# --- IPv6: dual-stack NICs (an IPv4 and an IPv6 ipConfiguration each), one rule at a time ------

NODE_V6, DB_V6 = "fd00:db8:deca:1::a", "fd00:db8:deca:3::30"


def v6_answer(rules: list[dict[str, Any]], *, src: str = NODE_V6, vnet_v6: bool = True):
    def dual(name: str, v4: str, v6: str, subnet: str) -> dict[str, Any]:
        out = nic(name, v4, subnet)
        out["ipConfigurations"].append(
            {"privateIPAddress": v6, "privateIPAddressVersion": "IPv6", "subnet": {"id": subnet}}
        )
        return out

    nics = [
        dual("node-a-nic", NODE_A, NODE_V6, SUBNET_NODES),
        dual("db-nic", DB, DB_V6, SUBNET_DB),
    ]
    space = ["10.0.0.0/16", "fd00:db8:deca::/48"] if vnet_v6 else ["10.0.0.0/16"]
    vnet = {
        "type": "Microsoft.Network/virtualNetworks",
        "name": "vnet",
        "addressSpace": {"addressPrefixes": space},
    }
    docs = [
        doc("azure", [nsg("nsg-db-subnet", rules, subnets=(SUBNET_DB,))], "nsg.json"),
        doc("azure", nics, "nic.json"),
        doc("azure", [vnet], "vnet.json"),
    ]
    return azure.evaluate(docs, model.Flow(src=src, dst=DB_V6, port=5432))


def test_ipv6_address_prefix_allows_an_ipv6_flow():
    deny_rest = rule("deny-rest", 300, access="Deny")
    a = v6_answer([rule("allow-v6", 200, src="fd00:db8:deca:1::/64"), deny_rest])
    assert a.decision is D.ALLOW
    assert any(s.rule.startswith("allow-v6 (priority 200") for s in a.steps)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("0.0.0.0/0", D.DENY),  # an IPv4 prefix never holds an IPv6 address
        ("::/0", D.ALLOW),
        ("*", D.ALLOW),  # any address of either version
        ("Any", D.ALLOW),
        ("10.0.1.0/24", D.DENY),
        ("fd00:db8:deca:2::/64", D.DENY),  # another IPv6 subnet
    ],
)
def test_an_ipv6_source_meets_each_kind_of_prefix(prefix: str, expected: model.Decision):
    a = v6_answer([rule("only", 200, src=prefix), rule("deny-rest", 300, access="Deny")])
    assert a.decision is expected, a.deciding


def test_an_ipv4_only_prefix_of_everything_does_not_hold_an_ipv6_source_before_the_defaults():
    """0.0.0.0/0 is IPv4's "everything": a deny with it leaves IPv6 to the default rules."""
    a = v6_answer([rule("deny-all-v4", 200, access="Deny", src="0.0.0.0/0")])
    assert a.decision is D.ALLOW
    assert any(s.rule.startswith("AllowVnetInBound (priority 65000") for s in a.steps)


@pytest.mark.parametrize(("vnet_v6", "expected"), [(True, D.ALLOW), (False, D.DENY)])
def test_the_virtual_network_tag_holds_ipv6_addresses_of_the_address_space(
    vnet_v6: bool, expected: model.Decision
):
    """VirtualNetwork stands for the address spaces: an IPv6 source is in it only when the
    virtual network has an IPv6 address space."""
    a = v6_answer(
        [rule("vnet", 200, src="VirtualNetwork"), rule("deny-rest", 300, access="Deny")],
        vnet_v6=vnet_v6,
    )
    assert a.decision is expected


@pytest.mark.parametrize(("src", "expected"), [("2a01:111:f400::5", D.ALLOW), (NODE_V6, D.DENY)])
def test_the_internet_tag_holds_public_ipv6_addresses_outside_the_virtual_network(
    src: str, expected: model.Decision
):
    a = v6_answer(
        [rule("inet", 200, src="Internet"), rule("deny-rest", 300, access="Deny")], src=src
    )
    assert a.decision is expected, a.deciding
