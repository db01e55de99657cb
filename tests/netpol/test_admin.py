"""Admin and baseline tiers (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy)
against the upstream API comments: order, actions, Pass, isolation, peers, ports, validation."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.netpol import cluster, engine, layers, matrix, patch, peers

from . import build
from .build import admin_policy, in_namespace

BASE = [
    build.namespace("app"),
    build.namespace("data"),
    build.pod("app", "client", {"app": "client"}, "10.0.0.1", node_ip="192.168.0.1"),
    build.pod("app", "other", {"app": "other"}, "10.0.0.2", node_ip="192.168.0.1"),
    build.pod(
        "data",
        "db",
        {"app": "db"},
        "10.0.1.1",
        node_ip="192.168.0.2",
        ports=[{"name": "pg", "containerPort": 5432}],
    ),
    build.pod("data", "exporter", {}, node_ip="192.168.0.2", host_network=True),
]
TO_DB = {"pods": {"namespaceSelector": in_namespace("data"), "podSelector": {}}}
FROM_APP = {"namespaces": in_namespace("app")}
DB_INGRESS_ONLY_FROM_CLIENT = build.policy(
    "data",
    "db-ingress",
    {
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": in_namespace("app"),
                        "podSelector": {"matchLabels": {"app": "client"}},
                    }
                ]
            }
        ],
    },
)


def check(*objs: dict[str, Any], src: str = "app/client", dst: str = "data/db", port: Any = 5432):
    ev = build.evidence(*BASE, *objs)
    result = engine.check_flow(
        ev,
        peers.resolve(ev, src, source=True)[0].peer,
        peers.resolve(ev, dst, port)[0].peer,
        port,
    )
    # every answer here must also be the all-pairs engine's
    pods = list(matrix.matrix(ev, 5432).pods)
    if src in pods and dst in pods and port == 5432:
        assert matrix.matrix(ev, 5432).allowed(pods.index(src), pods.index(dst)) == result.allowed
    return result


def anp_ingress(name: str, priority: int, action: str, **rule: Any) -> dict[str, Any]:
    return admin_policy(
        name,
        priority,
        {
            "subject": {"namespaces": in_namespace("data")},
            "ingress": [
                {"name": f"{action.lower()}-app", "action": action, "from": [FROM_APP], **rule}
            ],
        },
    )


def test_anp_deny_beats_a_networkpolicy_allow_and_names_the_rule():
    r = check(DB_INGRESS_ONLY_FROM_CLIENT, anp_ingress("deny-app", 10, "Deny"))
    assert not r.allowed
    assert r.ingress.reason == (
        'denied by AdminNetworkPolicy deny-app, priority 10, ingress rule 0 "deny-app": Deny'
    )
    (admin,) = [e for e in r.layers if e["layer"] == "admin"]
    assert admin["allowed"] is False
    assert admin["decided_by"] == {
        "kind": "AdminNetworkPolicy",
        "namespace": None,
        "name": "deny-app",
        "tier": "admin",
        "order": 10.0,
        "rule": 'ingress rule 0 "deny-app"',
    }


def test_anp_allow_beats_networkpolicy_isolation():
    r = check(DB_INGRESS_ONLY_FROM_CLIENT, anp_ingress("allow-app", 5, "Allow"), src="app/other")
    assert r.allowed and "AdminNetworkPolicy allow-app" in r.ingress.reason


def test_lower_priority_number_first_and_rules_in_order():
    deny = anp_ingress("deny", 20, "Deny")
    allow = anp_ingress("allow", 3, "Allow")
    assert check(deny, allow).allowed
    assert not check(anp_ingress("allow", 30, "Allow"), anp_ingress("deny", 2, "Deny")).allowed
    ordered = admin_policy(
        "both",
        1,
        {
            "subject": {"namespaces": in_namespace("data")},
            "ingress": [
                {"action": "Deny", "from": [FROM_APP]},
                {"action": "Allow", "from": [FROM_APP]},
            ],
        },
    )
    assert not check(ordered).allowed


def test_pass_hands_the_flow_to_networkpolicy_then_baseline():
    passing = anp_ingress("pass", 1, "Pass")
    deny_later = anp_ingress("deny", 50, "Deny")
    # Pass skips the later ANP Deny; the NetworkPolicy admits client
    assert check(passing, deny_later, DB_INGRESS_ONLY_FROM_CLIENT).allowed
    assert not check(passing, deny_later, DB_INGRESS_ONLY_FROM_CLIENT, src="app/other").allowed
    banp = admin_policy(
        "default",
        None,
        {
            "subject": {"namespaces": in_namespace("data")},
            "ingress": [{"action": "Deny", "from": [FROM_APP]}],
        },
        kind="BaselineAdminNetworkPolicy",
    )
    # not isolated by any NetworkPolicy: passed on to the baseline, which denies
    r = check(passing, deny_later, banp)
    assert not r.allowed and "BaselineAdminNetworkPolicy default" in r.ingress.reason
    # isolated by a NetworkPolicy: the baseline is never reached
    assert check(passing, banp, DB_INGRESS_ONLY_FROM_CLIENT).allowed


def test_admin_policies_never_isolate_by_themselves():
    unrelated = admin_policy(
        "other-port",
        1,
        {
            "subject": {"namespaces": in_namespace("data")},
            "ingress": [
                {"action": "Allow", "from": [FROM_APP], "ports": [{"portNumber": {"port": 80}}]}
            ],
        },
    )
    r = check(unrelated)
    assert r.allowed and not r.ingress.isolated


def test_baseline_deny_applies_only_without_networkpolicy_isolation():
    banp = admin_policy(
        "default",
        None,
        {
            "subject": {
                "pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}
            },
            "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}],
        },
        kind="BaselineAdminNetworkPolicy",
    )
    assert not check(banp).allowed
    assert check(banp, DB_INGRESS_ONLY_FROM_CLIENT).allowed


def test_cluster_network_policy_v1alpha2_tiers_and_accept():
    accept = admin_policy(
        "accept",
        10,
        {
            "tier": "Admin",
            "subject": {"namespaces": in_namespace("data")},
            "ingress": [
                {
                    "action": "Accept",
                    "from": [FROM_APP],
                    "protocols": [{"tcp": {"destinationPort": {"number": 5432}}}],
                }
            ],
        },
        kind="ClusterNetworkPolicy",
    )
    assert check(DB_INGRESS_ONLY_FROM_CLIENT, accept, src="app/other").allowed
    baseline_deny = admin_policy(
        "baseline-deny",
        10,
        {
            "tier": "Baseline",
            "subject": {"namespaces": in_namespace("data")},
            "ingress": [
                {
                    "action": "Deny",
                    "from": [FROM_APP],
                    "protocols": [{"destinationNamedPort": "pg"}],
                }
            ],
        },
        kind="ClusterNetworkPolicy",
    )
    assert not check(baseline_deny).allowed
    assert check(baseline_deny, DB_INGRESS_ONLY_FROM_CLIENT).allowed


def test_egress_networks_match_pod_ips_and_nodes_match_host_network_pods():
    deny_net = admin_policy(
        "deny-net",
        1,
        {
            "subject": {"namespaces": in_namespace("app")},
            "egress": [{"action": "Deny", "to": [{"networks": ["10.0.1.0/24"]}]}],
        },
    )
    assert not check(deny_net).allowed
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n2", "labels": {"role": "data"}},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.2"}]},
    }
    deny_nodes = admin_policy(
        "deny-nodes",
        1,
        {
            "subject": {"namespaces": in_namespace("app")},
            "egress": [{"action": "Deny", "to": [{"nodes": {"matchLabels": {"role": "data"}}}]}],
        },
    )
    assert not check(node, deny_nodes, dst="data/exporter", port=9100).allowed
    assert check(node, deny_nodes).allowed


def test_port_forms_number_range_and_named():
    for ports in (
        [{"portNumber": {"protocol": "TCP", "port": 5432}}],
        [{"portRange": {"start": 5000, "end": 6000}}],
        [{"namedPort": "pg"}],
    ):
        assert not check(anp_ingress("deny", 1, "Deny", ports=ports)).allowed, ports
    assert check(anp_ingress("deny", 1, "Deny", ports=[{"portNumber": {"port": 80}}])).allowed


@pytest.mark.parametrize(
    ("spec", "kind", "field"),
    [
        (
            {"priority": 1001, "subject": {"namespaces": {}}},
            "AdminNetworkPolicy",
            "spec.priority: 1001 is out of range (0-1000)",
        ),
        (
            {
                "priority": 1,
                "subject": {"namespaces": {}},
                "ingress": [{"action": "Drop", "from": [FROM_APP]}],
            },
            "AdminNetworkPolicy",
            "spec.ingress[0].action: unknown action 'Drop'",
        ),
        (
            {"priority": 1, "subject": {"namespaces": {}, "pods": TO_DB["pods"]}},
            "AdminNetworkPolicy",
            "spec.subject: must set exactly one of namespaces, pods",
        ),
        (
            {
                "priority": 1,
                "subject": {"namespaces": {}},
                "egress": [
                    {
                        "action": "Deny",
                        "to": [{"networks": ["10.0.0.0/8"]}],
                        "ports": [{"namedPort": "pg"}],
                    }
                ],
            },
            "AdminNetworkPolicy",
            "spec.egress[0]: a named port cannot be used",
        ),
        (
            {"subject": {"namespaces": {}}, "ingress": [{"action": "Pass", "from": [FROM_APP]}]},
            "BaselineAdminNetworkPolicy",
            "spec.ingress[0].action: unknown action 'Pass'",
        ),
        (
            {"priority": 1, "tier": "Middle", "subject": {"namespaces": {}}},
            "ClusterNetworkPolicy",
            "spec.tier: unsupported value 'Middle'",
        ),
    ],
)
def test_invalid_admin_policies_are_named_with_their_field_and_never_evaluated(spec, kind, field):
    name = "default" if kind == "BaselineAdminNetworkPolicy" else "bad"
    obj = admin_policy(name, None, spec, kind=kind)
    view = cluster.of(build.evidence(*BASE, obj))
    (invalid,) = layers.program(view).invalid
    assert invalid.ref == f"{kind} {name}" and field in invalid.describe()
    assert all(t.policies == () for t in layers.program(view).tiers if t.layer != "networkpolicy")


def test_an_admin_deny_is_fixed_in_the_admin_tier_exactly_with_blast_radius():
    deny = anp_ingress("deny-app", 10, "Deny")
    ev = build.evidence(*BASE, deny)
    src = peers.resolve(ev, "app/client", source=True)[0].peer
    (dst,) = peers.resolve(ev, "data/db", 5432)
    result = engine.check_flow(ev, src, dst.peer, 5432)
    fix = patch.minimal_patch(ev, result, src, dst.peer, 5432, "TCP")
    (obj,) = fix.objects
    assert obj["kind"] == "AdminNetworkPolicy" and obj["spec"]["priority"] == 9
    (rule,) = obj["spec"]["ingress"]
    assert rule["action"] == "Allow" and rule["ports"] == [{"namedPort": "pg"}]
    assert fix.opens_flow
    assert [f.describe() for f in fix.blast_radius] == ["app/client -> data/db TCP/5432"]
    (alt,) = fix.in_place
    assert alt.target == "AdminNetworkPolicy deny-app" and alt.patch[0]["path"] == "/spec/ingress/0"
    assert alt.opened == 1 and "kubectl patch adminnetworkpolicies" in alt.command


def test_a_priority_0_deny_can_only_be_narrowed_in_place():
    ev = build.evidence(*BASE, anp_ingress("deny-app", 0, "Deny"))
    src = peers.resolve(ev, "app/client", source=True)[0].peer
    (dst,) = peers.resolve(ev, "data/db", 5432)
    fix = patch.minimal_patch(
        ev, engine.check_flow(ev, src, dst.peer, 5432), src, dst.peer, 5432, "TCP"
    )
    assert fix.objects == () and not fix.opens_flow
    assert any("priority 0" in n for n in fix.notes) and len(fix.in_place) == 1


def test_a_baseline_deny_is_fixed_by_a_networkpolicy_admitting_the_flow():
    banp = admin_policy(
        "default",
        None,
        {
            "subject": {"namespaces": in_namespace("data")},
            "ingress": [{"action": "Deny", "from": [FROM_APP]}],
        },
        kind="BaselineAdminNetworkPolicy",
    )
    ev = build.evidence(*BASE, banp)
    src = peers.resolve(ev, "app/client", source=True)[0].peer
    (dst,) = peers.resolve(ev, "data/db", 5432)
    fix = patch.minimal_patch(
        ev, engine.check_flow(ev, src, dst.peer, 5432), src, dst.peer, 5432, "TCP"
    )
    (obj,) = fix.objects
    assert obj["kind"] == "NetworkPolicy" and fix.opens_flow
    assert [f.describe() for f in fix.blast_radius] == ["app/client -> data/db TCP/5432"]
