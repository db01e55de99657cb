"""Minimal patches: the patched cluster allows the flow; the blast radius is exactly the diff."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from paramedic.evidence import model as evidence_model
from paramedic.netpol import engine, matrix, naming, patch, peers

from . import build
from .test_properties import NETPOL_SETTINGS, cluster_st

PG = [{"name": "postgres", "containerPort": 5432}]


def deployment(ns: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "uid": name},
        "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}}},
    }


def objects(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        build.namespace("app"),
        build.namespace("data"),
        deployment("app", "user-service", {"app": "user-service"}),
        build.pod(
            "app",
            "user-service-5d-a",
            {"app": "user-service", "pod-template-hash": "5d"},
            "10.0.0.1",
        ),
        build.pod(
            "app",
            "user-service-5d-b",
            {"app": "user-service", "pod-template-hash": "5d"},
            "10.0.0.2",
        ),
        build.pod("app", "billing", {"app": "billing"}, "10.0.0.3"),
        build.pod("data", "profile-db-0", {"app": "profile-db"}, "10.0.1.1", ports=PG),
        build.pod("data", "orders-db-0", {"app": "orders-db"}, "10.0.1.2", ports=PG),
        build.service(
            "data", "profile-db", {"app": "profile-db"}, [{"port": 5432, "targetPort": "postgres"}]
        ),
        *extra,
    ]


DENY_OUT_APP = build.policy(
    "app", "default-deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]}
)
DENY_IN_DATA = build.policy(
    "data", "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}
)


def plan(
    objs: list[dict[str, Any]], src_text: str, dst_text: str = "data/profile-db", port: int = 5432
):
    ev = build.evidence(*objs)
    src = peers.resolve(ev, src_text, source=True)[0].peer
    dst = peers.resolve(ev, dst_text, port)[0]
    result = engine.check_flow(ev, src, dst.peer, dst.port or port)
    return (
        ev,
        src,
        dst,
        result,
        patch.minimal_patch(ev, result, src, dst.peer, dst.port or port, "TCP"),
    )


def oracle_diff(
    ev: evidence_model.Evidence, fix: patch.Patch, port: int = 5432
) -> set[tuple[str, str]]:
    after = evidence_model.Evidence.of((*ev.objects, *fix.objects))
    old, new = matrix.oracle_matrix(ev, port), matrix.oracle_matrix(after, port)
    return {(old.pods[i], old.pods[j]) for i, j in new.pairs() if not old.allowed(i, j)}


def test_egress_block_gets_one_egress_policy_for_the_workload_with_the_named_port():
    ev, _, _, _, fix = plan(objects(DENY_OUT_APP), "app/user-service-5d-a")
    assert fix.sides == ("egress",)
    (obj,) = fix.objects
    assert obj["metadata"] == {"name": "allow-user-service-to-profile-db-5432", "namespace": "app"}
    assert obj["spec"]["podSelector"] == {"matchLabels": {"app": "user-service"}}
    assert obj["spec"]["policyTypes"] == ["Egress"]
    assert obj["spec"]["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data"}},
                    "podSelector": {"matchLabels": {"app": "profile-db"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": "postgres"}],
        }
    ]
    assert fix.opens_flow and not fix.closed
    assert (
        {(f.src, f.dst) for f in fix.blast_radius}
        == oracle_diff(ev, fix)
        == {
            ("app/user-service-5d-a", "data/profile-db-0"),
            ("app/user-service-5d-b", "data/profile-db-0"),
        }
    )
    assert [p.target for p in fix.in_place] == ["NetworkPolicy app/default-deny-egress"]
    assert (
        "kubectl -n app patch networkpolicy default-deny-egress --type=json"
        in fix.in_place[0].command
    )


def test_both_sides_blocked_gets_one_policy_per_side():
    ev, _, _, result, fix = plan(objects(DENY_OUT_APP, DENY_IN_DATA), "app/user-service-5d-a")
    assert [str(d.direction) for d in result.blocking] == ["egress", "ingress"]
    assert [(o["metadata"]["namespace"], o["spec"]["policyTypes"]) for o in fix.objects] == [
        ("app", ["Egress"]),
        ("data", ["Ingress"]),
    ]
    ingress = fix.objects[1]["spec"]["ingress"][0]
    assert ingress["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "app"}},
            "podSelector": {"matchLabels": {"app": "user-service"}},
        }
    ]
    assert fix.opens_flow
    assert {(f.src, f.dst) for f in fix.blast_radius} == oracle_diff(ev, fix)
    assert len(fix.blast_radius) == 2
    # the in-place alternative edits both isolating policies; counted with both edits applied
    assert [p.target for p in fix.in_place] == [
        "NetworkPolicy app/default-deny-egress",
        "NetworkPolicy data/default-deny-ingress",
    ]
    assert [p.opened for p in fix.in_place] == [2, 2]


def test_only_the_blocking_side_is_patched_when_ingress_blocks():
    _, _, _, _, fix = plan(objects(DENY_IN_DATA), "app/billing")
    assert fix.sides == ("ingress",)
    assert fix.objects[0]["metadata"]["name"] == "allow-billing-to-profile-db-5432"
    assert [(f.src, f.dst) for f in fix.blast_radius] == [("app/billing", "data/profile-db-0")]


def test_outside_source_gets_an_ip_block_of_one_address():
    _, _, _, _, fix = plan(objects(DENY_IN_DATA), "203.0.113.9")
    peer = fix.objects[0]["spec"]["ingress"][0]["from"]
    assert peer == [{"ipBlock": {"cidr": "203.0.113.9/32"}}]
    assert [(f.src, f.dst) for f in fix.blast_radius] == [("203.0.113.9", "data/profile-db-0")]


def test_destination_without_a_port_name_gets_the_number():
    _, _, _, _, fix = plan(objects(DENY_IN_DATA), "app/billing", "data/orders-db-0", 5432)
    assert fix.objects[0]["spec"]["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": "postgres"}
    ]
    _, _, _, _, fix = plan(objects(DENY_IN_DATA), "app/billing", "data/orders-db-0", 6000)
    assert fix.objects[0]["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 6000}]


def test_name_taken_by_an_existing_policy_gets_a_side_suffix():
    taken = build.policy(
        "app", "allow-user-service-to-profile-db-5432", {"podSelector": {"matchLabels": {"x": "y"}}}
    )
    _, _, _, _, fix = plan(objects(DENY_OUT_APP, taken), "app/user-service-5d-a")
    assert fix.objects[0]["metadata"]["name"] == "allow-user-service-to-profile-db-5432-egress"


def test_allowed_flow_needs_no_patch():
    _, _, _, result, fix = plan(objects(), "app/billing")
    assert result.allowed and fix.objects == () and fix.blast_radius == ()


@NETPOL_SETTINGS
@given(objs=cluster_st(), data=st.data())
def test_patch_opens_the_flow_and_its_blast_radius_is_the_oracle_diff(objs, data):
    ev = evidence_model.Evidence.of(objs)
    pods = matrix.ordered_pods(ev)
    before = matrix.oracle_matrix(ev, 5432)
    denied = [
        (i, j) for i in range(len(pods)) for j in range(len(pods)) if not before.allowed(i, j)
    ]
    if not denied:
        return
    i, j = data.draw(st.sampled_from(denied))
    src, dst = peers.Peer.pod(pods[i]), peers.Peer.pod(pods[j])
    result = engine.check_flow(ev, src, dst, 5432)
    fix = patch.minimal_patch(ev, result, src, dst, 5432, "TCP")
    if not fix.opens_flow:
        # Two denials no new object can lift: an admin Deny at priority 0 (the fix is the Allow
        # rule inserted before it, offered in place) and an Istio rule against a client with
        # neither a sidecar nor an address (nothing can name it: no principal, no IP). Either
        # way the fix says why it opens nothing.
        assert fix.notes, fix.as_dict()
        unnamed = any("neither a sidecar (no principal) nor an address" in n for n in fix.notes)
        assert fix.in_place or unnamed, fix.as_dict()
        return
    after = matrix.oracle_matrix(evidence_model.Evidence.of((*ev.objects, *fix.objects)), 5432)
    assert after.allowed(i, j)
    opened = {
        (before.pods[a], before.pods[b]) for a, b in after.pairs() if not before.allowed(a, b)
    }
    assert {(f.src, f.dst) for f in fix.blast_radius if f.port == 5432} == opened


def test_a_new_object_of_any_layer_gets_a_name_no_object_of_its_kind_has():
    def policy(kind: str, ns: str, name: str) -> dict[str, Any]:
        meta = {"name": name, **({"namespace": ns} if ns else {})}
        return {"apiVersion": "x/v1", "kind": kind, "metadata": meta}

    long = "a" * 70
    ev = evidence_model.Evidence.of(
        [
            policy("AuthorizationPolicy", "data", "allow-db"),
            policy("AuthorizationPolicy", "data", "allow-db-2"),
            policy("AdminNetworkPolicy", "", "allow-db"),
            policy("NetworkPolicy", "app", "a" * 63),
        ]
    )
    assert naming.unused_name(ev, "AuthorizationPolicy", "data", "allow-db") == "allow-db-3"
    assert naming.unused_name(ev, "AuthorizationPolicy", "app", "allow-db") == "allow-db"
    assert naming.unused_name(ev, "AdminNetworkPolicy", "", "allow-db") == "allow-db-2"
    assert naming.unused_name(ev, "PeerAuthentication", "data", "allow-db") == "allow-db"
    taken_long = naming.unused_name(ev, "NetworkPolicy", "app", long)
    assert taken_long == "a" * 61 + "-2" and len(taken_long) == 63
    assert naming.unused_name(ev, "NetworkPolicy", "app", "security.allow") == "security.allow"
