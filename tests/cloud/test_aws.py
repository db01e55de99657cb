"""AWS security groups and network ACLs, one rule at a time."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.cloud import aws, model

from .build import (
    DB,
    NODE_A,
    NODE_B,
    OPEN_ACL,
    acl,
    doc,
    eni,
    entry,
    group,
    perm,
)

D = model.Decision
OPEN_V6 = [entry(101, "allow", egress=e, proto="-1", cidr="::/0") for e in (False, True)]


def answer(
    ingress: list[dict[str, Any]],
    *,
    src: str = NODE_A,
    dst: str = DB,
    port: int = 5432,
    protocol: int = model.TCP,
    node_egress: list[dict[str, Any]] | None = None,
    db_groups: tuple[str, ...] = ("sg-db",),
    extra: list[dict[str, Any]] | None = None,
    acls: list[dict[str, Any]] | None = None,
    interfaces: list[dict[str, Any]] | None = None,
    more: tuple[Any, ...] = (),
) -> model.Answer:
    groups = [group("sg-nodes", [], node_egress), group("sg-db", ingress), *(extra or [])]
    enis = interfaces or [
        eni("eni-a", NODE_A, ("sg-nodes",), "subnet-a", v6="2600:1f18::a"),
        eni("eni-b", NODE_B, ("sg-other",), "subnet-b"),
        eni("eni-db", DB, db_groups, "subnet-db", v6="2600:1f18::db"),
    ]
    docs = [
        doc("aws", {"SecurityGroups": [*groups, group("sg-other", [])]}),
        doc("aws", {"NetworkInterfaces": enis}),
        doc(
            "aws",
            {
                "NetworkAcls": acls
                if acls is not None
                else [
                    acl(
                        "acl-1",
                        ("subnet-a", "subnet-b", "subnet-db"),
                        OPEN_ACL + OPEN_V6,
                        default=True,
                    )
                ]
            },
        ),
        *more,
    ]
    flow = model.Flow(src=src, dst=dst, port=port, protocol=protocol)
    return aws.evaluate(docs, flow)


def test_referenced_group_allows_interfaces_that_carry_it():
    a = answer([perm(groups=("sg-nodes",))])
    assert a.decision is D.ALLOW
    inbound = next(s for s in a.steps if "inbound" in s.layer and "security" in s.layer)
    assert "from group sg-nodes (carried by eni-a" in inbound.rule


def test_referenced_group_does_not_allow_an_interface_without_it():
    a = answer([perm(groups=("sg-nodes",))], src=NODE_B)
    assert a.decision is D.DENY
    assert a.deciding is not None and "security groups (inbound)" in a.deciding.layer
    assert "no inbound rule of sg-db allows tcp 5432 from 10.0.2.20" in a.deciding.reason


def test_no_rule_denies_because_groups_only_allow():
    a = answer([])
    assert a.decision is D.DENY


def test_other_port_is_not_allowed():
    assert answer([perm(ports=(3306, 3306), groups=("sg-nodes",))]).decision is D.DENY


def test_port_range_covers_the_port():
    assert answer([perm(ports=(5000, 6000), cidrs=("10.0.0.0/16",))]).decision is D.ALLOW


@pytest.mark.parametrize(("src", "expected"), [(NODE_A, D.ALLOW), (NODE_B, D.DENY)])
def test_ipv4_cidr_matches_only_its_range(src, expected):
    assert answer([perm(cidrs=("10.0.1.0/24",))], src=src).decision is expected


def test_ipv6_source_needs_an_ipv6_range():
    v4_only = answer([perm(cidrs=("0.0.0.0/0",))], src="2600:1f18::a", dst="2600:1f18::db")
    v6 = answer([perm(v6=("2600:1f18::/56",))], src="2600:1f18::a", dst="2600:1f18::db")
    assert v4_only.decision is D.DENY
    assert v6.decision is D.ALLOW


def test_prefix_list_with_its_entries_allows():
    entries = doc("aws", {"Entries": [{"Cidr": "10.0.1.0/24"}]}, name="pl-0abc.json")
    a = answer([perm(prefix_lists=("pl-0abc",))], more=(entries,))
    assert a.decision is D.ALLOW
    assert any("prefix list pl-0abc (10.0.1.0/24)" in s.rule for s in a.steps)


def test_prefix_list_without_entries_is_unknown_not_denied():
    a = answer([perm(prefix_lists=("pl-0abc",))])
    assert a.decision is D.UNKNOWN
    assert "entries of prefix list pl-0abc" in a.deciding.reason


def test_aws_managed_prefix_list_from_describe_prefix_lists():
    lists = doc("aws", {"PrefixLists": [{"PrefixListId": "pl-0abc", "Cidrs": ["10.0.0.0/8"]}]})
    assert answer([perm(prefix_lists=("pl-0abc",))], more=(lists,)).decision is D.ALLOW


def test_union_of_every_group_on_the_interface():
    extra = [group("sg-extra", [perm(cidrs=("10.0.1.10/32",))])]
    alone = answer([], extra=extra)
    union = answer([], extra=extra, db_groups=("sg-db", "sg-extra"))
    assert alone.decision is D.DENY
    assert union.decision is D.ALLOW


def test_all_traffic_rule_allows_any_protocol():
    assert answer([perm("-1", None, groups=("sg-nodes",))], protocol=model.IPIP).decision is D.ALLOW


def test_ip_protocol_4_needs_its_own_rule():
    tcp_only = answer([perm("tcp", (0, 65535), groups=("sg-nodes",))], protocol=model.IPIP)
    ipip = answer([perm("4", None, groups=("sg-nodes",))], protocol=model.IPIP)
    assert tcp_only.decision is D.DENY
    assert ipip.decision is D.ALLOW


def test_egress_rules_of_the_source_count():
    a = answer(
        [perm(groups=("sg-nodes",))], node_egress=[perm(ports=(443, 443), cidrs=("0.0.0.0/0",))]
    )
    assert a.decision is D.DENY
    assert "security groups (outbound) of eni-a" in a.deciding.layer


def test_groups_are_stateful_so_the_server_needs_no_egress_rule():
    ingress = [perm(groups=("sg-nodes",))]
    groups = [group("sg-nodes", []), group("sg-db", ingress, egress=[])]
    docs = [
        doc("aws", {"SecurityGroups": groups}),
        doc(
            "aws",
            {
                "NetworkInterfaces": [
                    eni("eni-a", NODE_A, ("sg-nodes",), "s"),
                    eni("eni-db", DB, ("sg-db",), "s"),
                ]
            },
        ),
    ]
    assert aws.evaluate(docs, model.Flow(src=NODE_A, dst=DB, port=5432)).decision is D.ALLOW


ALLOW_SG = [perm(groups=("sg-nodes",))]


def acl_answer(db_entries: list[dict[str, Any]]) -> model.Answer:
    return answer(
        ALLOW_SG,
        acls=[
            acl("acl-nodes", ("subnet-a", "subnet-b"), list(OPEN_ACL), default=True),
            acl("acl-db", ("subnet-db",), db_entries),
        ],
    )


def test_acl_is_stateless_so_replies_need_an_outbound_entry():
    a = acl_answer([entry(100, "allow", egress=False, ports=(5432, 5432), cidr="10.0.0.0/16")])
    assert a.decision is D.DENY
    assert a.deciding.layer.startswith("network ACL acl-db outbound (the replies leave")
    assert a.deciding.rule == "acl-db outbound rule * (default): deny all"


def test_acl_with_both_directions_allows():
    a = acl_answer(
        [
            entry(100, "allow", egress=False, ports=(5432, 5432), cidr="10.0.0.0/16"),
            entry(100, "allow", egress=True, ports=(1024, 65535), cidr="10.0.0.0/16"),
        ]
    )
    assert a.decision is D.ALLOW


def test_acl_replies_need_every_ephemeral_port():
    a = acl_answer(
        [
            entry(100, "allow", egress=False, ports=(5432, 5432)),
            entry(100, "allow", egress=True, ports=(1024, 40000)),
        ]
    )
    assert a.decision is D.DENY
    assert "40001-60999" in a.deciding.reason


@pytest.mark.parametrize(("deny_no", "expected"), [(90, D.DENY), (110, D.ALLOW)])
def test_acl_first_match_by_rule_number(deny_no, expected):
    a = acl_answer(
        [
            entry(deny_no, "deny", egress=False, ports=(5432, 5432), cidr="10.0.1.0/24"),
            entry(100, "allow", egress=False, ports=(5432, 5432)),
            entry(100, "allow", egress=True, ports=(1024, 65535)),
        ]
    )
    assert a.decision is expected
    if expected is D.DENY:
        assert a.deciding.rule.startswith("acl-db inbound rule 90: deny tcp 5432 from 10.0.1.0/24")


def test_acl_default_rule_denies_when_nothing_matches():
    a = acl_answer([])
    assert a.decision is D.DENY
    assert "inbound rule * (default)" in a.deciding.rule


def test_unassociated_subnet_gets_the_default_acl():
    a = answer(ALLOW_SG, acls=[acl("acl-default", (), [], default=True)])
    assert a.decision is D.DENY
    assert "acl-default" in a.deciding.layer


def test_same_subnet_meets_no_acl():
    interfaces = [
        eni("eni-a", NODE_A, ("sg-nodes",), "subnet-x"),
        eni("eni-db", DB, ("sg-db",), "subnet-x"),
    ]
    a = answer(ALLOW_SG, interfaces=interfaces, acls=[acl("acl-x", ("subnet-x",), [])])
    assert a.decision is D.ALLOW
    assert any("ACLs only guard subnet boundaries" in s.reason for s in a.steps)


def test_missing_acls_are_unknown_with_the_command():
    docs = [
        doc("aws", {"SecurityGroups": [group("sg-nodes", []), group("sg-db", ALLOW_SG)]}),
        doc(
            "aws",
            {
                "NetworkInterfaces": [
                    eni("eni-a", NODE_A, ("sg-nodes",), "a"),
                    eni("eni-db", DB, ("sg-db",), "b"),
                ]
            },
        ),
    ]
    a = aws.evaluate(docs, model.Flow(src=NODE_A, dst=DB, port=5432))
    assert a.decision is D.UNKNOWN
    assert "aws ec2 describe-network-acls" in a.deciding.reason


def test_rds_instance_found_by_endpoint_uses_its_vpc_security_groups():
    rds = doc(
        "aws",
        {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "profile-db",
                    "Endpoint": {
                        "Address": "profile-db.abc.eu-west-1.rds.amazonaws.com",
                        "Port": 5432,
                    },
                    "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-db", "Status": "active"}],
                    "DBSubnetGroup": {
                        "VpcId": "vpc-1",
                        "Subnets": [{"SubnetIdentifier": "subnet-db"}],
                    },
                }
            ]
        },
    )
    docs = [
        doc("aws", {"SecurityGroups": [group("sg-nodes", []), group("sg-db", [])]}),
        doc("aws", {"NetworkInterfaces": [eni("eni-a", NODE_A, ("sg-nodes",), "subnet-a")]}),
        doc("aws", {"NetworkAcls": [acl("acl-1", (), list(OPEN_ACL), default=True)]}),
        rds,
    ]
    flow = model.Flow(
        src=NODE_A, dst="10.0.9.9", port=5432, dst_name="profile-db.abc.eu-west-1.rds.amazonaws.com"
    )
    a = aws.evaluate(docs, flow)
    assert a.decision is D.DENY
    assert "RDS instance profile-db [sg-db]" in a.deciding.layer


def test_unknown_destination_is_unknown_with_the_command():
    docs = [
        doc("aws", {"SecurityGroups": [group("sg-nodes", [])]}),
        doc("aws", {"NetworkInterfaces": [eni("eni-a", NODE_A, ("sg-nodes",), "a")]}),
    ]
    a = aws.evaluate(docs, model.Flow(src=NODE_A, dst="10.9.9.9", port=5432))
    assert a.decision is D.UNKNOWN
    assert any("addresses.private-ip-address,Values=10.9.9.9" in s.reason for s in a.steps)
