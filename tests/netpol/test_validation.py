"""Policies the API server would reject: reported with every problem, never evaluated half-way."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.netpol import cluster, engine, peers, policies, validation

from . import build


def rule_from(peer: dict[str, Any]) -> dict[str, Any]:
    return {"podSelector": {}, "ingress": [{"from": [peer]}]}


def rule_ports(port: dict[str, Any]) -> dict[str, Any]:
    return {"podSelector": {}, "ingress": [{"ports": [port]}]}


INVALID = [
    (
        "ip_block_with_selector",
        rule_from({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}),
        "may not specify both ipBlock and another peer",
    ),
    ("empty_peer", rule_from({}), "must specify a peer"),
    ("bad_cidr", rule_from({"ipBlock": {"cidr": "10.0.0.300/8"}}), "not a valid CIDR"),
    ("cidr_without_prefix", rule_from({"ipBlock": {"cidr": "10.0.0.1"}}), "missing /prefix"),
    (
        "except_outside_cidr",
        rule_from({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}),
        "strict subset",
    ),
    (
        "except_equal_to_cidr",
        rule_from({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}),
        "strict subset",
    ),
    ("bad_protocol", rule_ports({"port": 80, "protocol": "ICMP"}), "unsupported value 'ICMP'"),
    ("port_out_of_range", rule_ports({"port": 70000}), "between 1 and 65535"),
    ("bad_port_name", rule_ports({"port": "Postgres_1"}), "not a valid port name"),
    ("numeric_string_port", rule_ports({"port": "5432"}), "not a valid port name"),
    ("end_port_without_port", rule_ports({"endPort": 90}), "only be set with a numeric port"),
    ("end_port_with_named_port", rule_ports({"port": "http", "endPort": 90}), "numeric port"),
    ("end_port_below_port", rule_ports({"port": 90, "endPort": 80}), "must be >= port"),
    (
        "bad_policy_type",
        {"podSelector": {}, "policyTypes": ["Ingres"]},
        "unsupported value 'Ingres'",
    ),
    (
        "bad_operator",
        {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}},
        "unknown operator",
    ),
    (
        "in_without_values",
        {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
        "In needs values",
    ),
    (
        "exists_with_values",
        rule_from(
            {
                "podSelector": {
                    "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
                }
            }
        ),
        "takes no values",
    ),
]


@pytest.mark.parametrize(("spec", "problem"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_policy_is_reported_with_its_problem(spec, problem):
    parsed = validation.parse(build.policy("a", "bad", spec))
    assert isinstance(parsed, policies.Invalid)
    assert problem in parsed.describe()
    assert parsed.describe().startswith("NetworkPolicy a/bad is invalid")


@pytest.mark.parametrize(
    "spec",
    [
        {"podSelector": {}},
        {
            "podSelector": {},
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.5/8", "except": ["10.1.0.0/16"]}}]}],
        },
        {"podSelector": {}, "egress": [{"ports": [{"port": 80, "endPort": 80}]}]},
        {"podSelector": {}, "ingress": [{"ports": [{"port": "http-alt"}]}]},
        {"podSelector": {}, "ingress": [None], "egress": []},
    ],
    ids=["empty", "host_bits_and_except", "end_port_equal", "named_port", "null_rule"],
)
def test_valid_policies_parse(spec):
    assert isinstance(validation.parse(build.policy("a", "ok", spec)), policies.Policy)


def test_policy_types_default_as_the_api_server_does():
    only_ingress = validation.parse(build.policy("a", "x", {"podSelector": {}, "egress": []}))
    both = validation.parse(build.policy("a", "y", {"podSelector": {}, "egress": [{}]}))
    assert isinstance(only_ingress, policies.Policy) and isinstance(both, policies.Policy)
    assert (only_ingress.ingress, only_ingress.egress) == (True, False)
    assert (both.ingress, both.egress) == (True, True)


def test_invalid_policy_is_named_in_the_flow_result_and_not_evaluated():
    ev = build.evidence(
        build.pod("a", "db", {"app": "db"}, "10.0.0.2"),
        build.pod("a", "web", {"app": "web"}, "10.0.0.1"),
        build.policy(
            "a", "bad", {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [{}]}]}
        ),
    )
    assert [i.name for i in cluster.of(ev).invalid] == ["bad"]
    src, dst = (peers.resolve(ev, t)[0].peer for t in ("a/web", "a/db"))
    result = engine.check_flow(ev, src, dst, 80)
    assert result.allowed and not result.ingress.isolated
    assert result.invalid and "NetworkPolicy a/bad is invalid" in result.invalid[0]
