"""GCP VPC firewall rules, one rule at a time."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.cloud import gcp, model

from .build import DB, NODE_A, NODE_B, doc

D = model.Decision
NET = "https://www.googleapis.com/compute/v1/projects/p/global/networks/prod"


def instance(name: str, ip: str, tags: tuple[str, ...] = (), sa: str = "", net: str = NET):
    return {
        "kind": "compute#instance",
        "name": name,
        "networkInterfaces": [{"network": net, "networkIP": ip, "name": "nic0"}],
        "tags": {"items": list(tags)},
        "serviceAccounts": [{"email": sa}] if sa else [],
    }


INSTANCES = [
    instance("node-a", NODE_A, ("gke-node",), "nodes@p.iam.gserviceaccount.com"),
    instance("node-b", NODE_B, ("other",)),
    instance("db-vm", DB, ("postgres",), "db@p.iam.gserviceaccount.com"),
]


def rule(
    name: str,
    *,
    action: str = "allowed",
    proto: str = "tcp",
    ports=("5432",),
    priority: int | None = 1000,
    direction: str = "INGRESS",
    **fields: Any,
) -> dict:
    out: dict[str, Any] = {
        "kind": "compute#firewall",
        "name": name,
        "network": NET,
        "direction": direction,
        action: [{"IPProtocol": proto, **({"ports": list(ports)} if ports else {})}],
        "disabled": False,
        **fields,
    }
    if priority is not None:
        out["priority"] = priority
    return out


def answer(
    rules: list[dict[str, Any]],
    src: str = NODE_A,
    protocol: int = model.TCP,
    instances: list[dict[str, Any]] | None = None,
) -> model.Answer:
    docs = [
        doc("gcp", rules, "fw.json"),
        doc("gcp", INSTANCES if instances is None else instances, "vm.json"),
    ]
    return gcp.evaluate(docs, model.Flow(src=src, dst=DB, port=5432, protocol=protocol))


def test_implied_deny_ingress_when_no_rule_matches():
    a = answer([rule("ssh", ports=("22",))])
    assert a.decision is D.DENY
    assert a.deciding.rule == "implied deny ingress (priority 65535)"


def test_implied_allow_egress():
    a = answer([rule("db", sourceRanges=["10.0.0.0/8"])])
    assert a.decision is D.ALLOW
    assert a.steps[0].rule == "implied allow egress (priority 65535)"


def test_source_range_allows():
    assert answer([rule("db", sourceRanges=["10.0.1.0/24"])]).decision is D.ALLOW
    assert answer([rule("db", sourceRanges=["10.0.1.0/24"])], src=NODE_B).decision is D.DENY


@pytest.mark.parametrize(("src", "expected"), [(NODE_A, D.ALLOW), (NODE_B, D.DENY)])
def test_source_tags_match_the_instances_that_carry_them(src, expected):
    assert answer([rule("db", sourceTags=["gke-node"])], src=src).decision is expected


def test_source_service_accounts():
    r = rule("db", sourceServiceAccounts=["nodes@p.iam.gserviceaccount.com"])
    assert answer([r]).decision is D.ALLOW
    assert answer([r], src=NODE_B).decision is D.DENY


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ({"targetTags": ["postgres"]}, D.ALLOW),
        ({"targetTags": ["web"]}, D.DENY),
        ({"targetServiceAccounts": ["db@p.iam.gserviceaccount.com"]}, D.ALLOW),
        ({}, D.ALLOW),
    ],
)
def test_target_tags_and_service_accounts(targets, expected):
    assert answer([rule("db", sourceRanges=["0.0.0.0/0"], **targets)]).decision is expected


def test_rule_without_source_means_any_ipv4():
    assert answer([rule("db")]).decision is D.ALLOW


def test_disabled_rule_does_not_exist():
    assert answer([rule("db", sourceRanges=["0.0.0.0/0"], disabled=True)]).decision is D.DENY


def test_deny_beats_allow_at_equal_priority():
    a = answer(
        [
            rule("allow", sourceRanges=["0.0.0.0/0"]),
            rule("deny", action="denied", sourceRanges=["0.0.0.0/0"]),
        ]
    )
    assert a.decision is D.DENY
    assert a.deciding.rule.startswith("deny (priority 1000")


def test_lower_priority_number_wins():
    a = answer(
        [
            rule("allow", sourceRanges=["0.0.0.0/0"], priority=900),
            rule("deny", action="denied", sourceRanges=["0.0.0.0/0"]),
        ]
    )
    assert a.decision is D.ALLOW


def test_missing_priority_is_1000():
    a = answer(
        [
            rule("allow", sourceRanges=["0.0.0.0/0"], priority=999),
            rule("deny", action="denied", sourceRanges=["0.0.0.0/0"], priority=None),
        ]
    )
    assert a.decision is D.ALLOW


def test_port_ranges_and_protocols():
    assert answer([rule("db", ports=("5000-6000",))]).decision is D.ALLOW
    assert answer([rule("db", ports=("3306",))]).decision is D.DENY
    assert answer([rule("db", proto="all", ports=())]).decision is D.ALLOW
    assert answer([rule("db", proto="udp", ports=())]).decision is D.DENY
    assert answer([rule("ipip", proto="ipip", ports=())], protocol=model.IPIP).decision is D.ALLOW


def test_rules_of_another_network_do_not_apply():
    r = rule("db", sourceRanges=["0.0.0.0/0"])
    r["network"] = NET.replace("/prod", "/staging")
    assert answer([r]).decision is D.DENY


def test_egress_deny_on_the_source():
    a = answer(
        [
            rule("db"),
            rule(
                "no-out",
                action="denied",
                direction="EGRESS",
                ports=(),
                proto="all",
                destinationRanges=["10.0.3.0/24"],
            ),
        ]
    )
    assert a.decision is D.DENY
    assert "egress of node-a" in a.deciding.layer


def test_ipv6_source_range():
    instances = [instance("node-6", "fd20::a", ("n",)), *INSTANCES]
    instances[3]["networkInterfaces"][0]["ipv6Address"] = "fd20::db"
    docs = [doc("gcp", [rule("v6", sourceRanges=["fd20::/64"])]), doc("gcp", instances, "vm.json")]
    a = gcp.evaluate(docs, model.Flow(src="fd20::a", dst="fd20::db", port=5432))
    assert a.decision is D.ALLOW
    v4 = [doc("gcp", [rule("v4", sourceRanges=["0.0.0.0/0"])]), doc("gcp", instances, "vm.json")]
    assert gcp.evaluate(v4, model.Flow(src="fd20::a", dst="fd20::db", port=5432)).decision is D.DENY


def test_source_tags_do_not_match_an_address_no_instance_holds():
    docs = [
        doc("gcp", [rule("db", sourceTags=["gke-node"])]),
        doc("gcp", [INSTANCES[2]], "vm.json"),
    ]
    assert gcp.evaluate(docs, model.Flow(src=NODE_A, dst=DB, port=5432)).decision is D.DENY


def test_destination_without_instances_is_unknown_with_the_command():
    a = gcp.evaluate([doc("gcp", [rule("db")])], model.Flow(src=NODE_A, dst=DB, port=5432))
    assert a.decision is D.UNKNOWN
    assert "gcloud compute instances list" in a.deciding.reason


# --- IPv6, one rule at a time: dual-stack instances (ipv6Address), external IPv6 ------------


def _dual_stack() -> list[dict[str, Any]]:
    instances = [instance("node-6", NODE_A, ("gke-node",)), instance("db-6", DB, ("postgres",))]
    instances[0]["networkInterfaces"][0]["ipv6Address"] = "fd20::a"
    instances[1]["networkInterfaces"][0]["ipv6Address"] = "fd20::db"
    return instances


def _v6(rules: list[dict[str, Any]], src: str = "fd20::a", dst: str = "fd20::db"):
    docs = [doc("gcp", rules, "fw.json"), doc("gcp", _dual_stack(), "vm.json")]
    return gcp.evaluate(docs, model.Flow(src=src, dst=dst, port=5432))


def test_a_rule_without_sources_means_ipv4_only_so_ipv6_meets_the_implied_deny():
    a = _v6([rule("no-source")])
    assert a.decision is D.DENY
    assert a.deciding.rule.startswith("implied deny ingress")


def test_source_tags_match_the_ipv6_address_of_the_tagged_instance():
    assert _v6([rule("by-tag", sourceTags=["gke-node"])]).decision is D.ALLOW


@pytest.mark.parametrize(
    ("ranges", "v6", "v4"),
    [
        (["::/0"], D.DENY, D.ALLOW),
        (["0.0.0.0/0"], D.ALLOW, D.DENY),
        (["fd20::db/128"], D.DENY, D.ALLOW),
    ],
)
def test_an_egress_deny_holds_only_destinations_of_its_own_ip_version(ranges, v6, v4):
    deny = rule(
        "no-out",
        action="denied",
        direction="EGRESS",
        ports=(),
        proto="all",
        destinationRanges=ranges,
    )
    allow = rule("in", sourceRanges=["0.0.0.0/0", "::/0"])
    assert _v6([allow, deny]).decision is v6
    assert _v6([allow, deny], src=NODE_A, dst=DB).decision is v4


def test_an_external_ipv6_address_belongs_to_its_instance():
    instances = _dual_stack()
    instances[1]["networkInterfaces"][0]["ipv6AccessConfigs"] = [
        {
            "type": "DIRECT_IPV6",
            "externalIpv6": "2600:1900:4000:1::5",
            "externalIpv6PrefixLength": 96,
        }
    ]
    docs = [
        doc("gcp", [rule("v6-in", sourceRanges=["::/0"])], "fw.json"),
        doc("gcp", instances, "vm.json"),
    ]
    a = gcp.evaluate(docs, model.Flow(src="2a01:111:f400::5", dst="2600:1900:4000:1::5", port=5432))
    assert a.decision is D.ALLOW
    assert any("db-6" in s.layer for s in a.steps)
