"""The Calico layer of the compiled form: the truth table through `netpol` (per pair and all
pairs), Kubernetes NetworkPolicies inside Calico's default tier, and differential properties
(the compiled form against Calico's own tier walk; the fast matrix against the per-pair one)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzzing
from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, engine, fast, matrix, model, peers

from . import build as b
from .test_decide import CASES, DB, IN, OUTSIDE, TO_DB, WEB

NAMESPACES = [b.namespace(n, **{k: v for k, v in labels.items() if "/" not in k})
              for n, labels in b.NAMESPACES.items()]  # fmt: skip
ACCOUNT = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"namespace": "app", "name": "frontend", "labels": {"role": "public"}},
}


def _evidence(found: list[dict[str, Any]], *extra: dict[str, Any]) -> evidence_model.Evidence:
    pods = [p for p in (*extra, WEB, DB) if isinstance(p, dict)]
    unique = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods}
    return evidence_model.Evidence.of([*NAMESPACES, ACCOUNT, *unique.values(), *found])


def _peer(party: Any) -> peers.Peer:
    return peers.Peer.ip(party) if isinstance(party, str) else peers.Peer.pod(party)


@pytest.mark.parametrize(
    ("found", "src", "dst", "port", "direction", "allowed"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_compiled_form_agrees_with_the_truth_table(
    found: list[dict[str, Any]],
    src: Any,
    dst: Any,
    port: int,
    direction: model.Direction,
    allowed: bool,
) -> None:
    evidence = _evidence(found, src, dst)
    result = engine.check_flow(evidence, _peer(src), _peer(dst), port, "TCP", model.CALICO)
    side = result.ingress if direction is IN else result.egress
    assert side.allowed is allowed, side.reason


KUBE_ALLOW_WEB = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"namespace": "data", "name": "db-from-web"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [
            {"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}]}
        ],
    },
}
API = b.pod("app", "api", "10.0.1.2", {"app": "api"})


@pytest.mark.parametrize(
    ("found", "src", "allowed", "decider"),
    [
        ([KUBE_ALLOW_WEB], WEB, True, "NetworkPolicy data/db-from-web"),
        ([KUBE_ALLOW_WEB], API, False, "end of tier"),
        # a Calico policy before 1000 in the default tier decides first
        ([KUBE_ALLOW_WEB, b.np("data", "deny", order=500, selector=TO_DB,
          ingress=[{"action": "Deny"}])], WEB, False, "order 500"),
        # after 1000: Kubernetes' allow-only rules did not match, so the walk goes on to it
        ([KUBE_ALLOW_WEB, b.np("data", "late", order=2000, selector=TO_DB,
          ingress=[{"action": "Allow"}])], API, True, "order 2000"),
        # a GlobalNetworkPolicy of an earlier tier decides before any NetworkPolicy
        ([KUBE_ALLOW_WEB, b.tier("security", 100), b.gnp("security.deny", tier="security",
          selector=TO_DB, ingress=[{"action": "Deny"}])], WEB, False, "tier security"),
    ],
)  # fmt: skip
def test_kubernetes_network_policies_sit_in_the_default_tier_at_order_1000(
    found: list[dict[str, Any]], src: dict[str, Any], allowed: bool, decider: str
) -> None:
    evidence = _evidence(found, src)
    result = engine.check_flow(evidence, _peer(src), _peer(DB), 5432, "TCP", model.CALICO)
    assert result.ingress.allowed is allowed
    assert result.ingress.decided_by is not None
    assert decider in result.ingress.decided_by.describe() + result.ingress.reason


def test_the_deciding_rule_is_named_as_calico_names_it() -> None:
    found = [b.tier("security", 100), b.gnp("security.deny-db", tier="security", order=100,
             selector=TO_DB, ingress=[{"action": "Pass", "source": {"selector": "app == 'x'"}},
                                      {"action": "Deny"}])]  # fmt: skip
    result = engine.check_flow(_evidence(found), _peer(WEB), _peer(DB), 5432, "TCP", model.CALICO)
    assert result.ingress.reason == (
        "denied by GlobalNetworkPolicy security.deny-db, tier security, order 100, "
        "ingress rule 1: Deny"
    )
    layer = result.as_dict()["layers"][0]
    assert layer["layer"] == "calico" and layer["allowed"] is False
    assert layer["decided_by"]["rule"] == "ingress rule 1"


def test_under_another_cni_calico_objects_are_unmodelled_never_ruled_out() -> None:
    found = [b.gnp("deny-db", selector=TO_DB, ingress=[{"action": "Deny"}])]
    result = engine.check_flow(_evidence(found), _peer(WEB), _peer(DB), 5432, "TCP")
    assert result.allowed
    assert [u.name for u in result.unmodelled] == ["deny-db"]


def test_staged_and_host_policies_are_listed_as_unmodelled_under_calico() -> None:
    found = [
        {**b.gnp("staged", selector=TO_DB, ingress=[{"action": "Deny"}]),
         "kind": "StagedGlobalNetworkPolicy"},
        b.gnp("edge", selector="all()", preDNAT=True, applyOnForward=True,
              ingress=[{"action": "Deny"}]),
    ]  # fmt: skip
    result = engine.check_flow(_evidence(found), _peer(WEB), _peer(DB), 5432, "TCP", model.CALICO)
    assert result.allowed
    why = {u.name: u.why for u in result.unmodelled}
    assert "never enforced" in why["staged"] and "host endpoints" in why["edge"]
    assert all("calico" not in u.command or "kubectl get" in u.command for u in result.unmodelled)


# --- differential properties ------------------------------------------------------------------

NS = ("app", "data")
APPS = ("web", "db", "api")
ADDRESSES = ("10.0.1.0/24", "10.0.2.0/24", "10.0.0.0/8", "203.0.113.0/24")


def _pods(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(2, 5))
    found = []
    for i in range(count):
        ns = draw(st.sampled_from(NS))
        app = draw(st.sampled_from(APPS))
        account = draw(st.sampled_from(("default", "frontend")))
        ip = f"10.0.{NS.index(ns) + 1}.{i + 1}"
        ports = [("pg", 5432, "TCP")] if draw(st.booleans()) else [("http", 5432, "TCP")]
        found.append(b.pod(ns, f"{app}-{i}", ip, {"app": app}, account, ports))
    return found


selectors = st.sampled_from(
    ("app == 'web'", "app != 'db'", "app in {'web', 'api'}", "has(app)", "all()",
     "projectcalico.org/namespace == 'data'", "app starts with 'w' || app == 'db'",
     "partner == 'p'", "!has(partner)")
)  # fmt: skip
entities = st.fixed_dictionaries(
    {},
    optional={
        "selector": selectors,
        "notSelector": selectors,
        "namespaceSelector": st.sampled_from(("team == 'db'", "all()", "global()")),
        "nets": st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=2),
        "notNets": st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=1),
        "serviceAccounts": st.just({"names": ["frontend"]}),
    },
)
rule_st = st.fixed_dictionaries(
    {"action": st.sampled_from(("Allow", "Deny", "Pass", "Log"))},
    optional={
        "protocol": st.sampled_from(("TCP", "UDP", 6)),
        "source": entities,
        "destination": entities,
    },
)


@st.composite
def calico_sets(draw: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        b.tier("t1", 10, draw(st.sampled_from(("Deny", "Pass")))),
        b.global_set("partners", ["203.0.113.0/24", "10.0.2.0/30"], partner="p"),
    ]
    for i in range(draw(st.integers(1, 4))):
        spec: dict[str, Any] = {
            "selector": draw(selectors),
            "tier": draw(st.sampled_from(("default", "t1"))),
            "ingress": draw(st.lists(rule_st, max_size=3)),
            "egress": draw(st.lists(rule_st, max_size=2)),
        }
        if draw(st.booleans()):
            spec["order"] = draw(st.sampled_from((1, 100, 1000, 2000)))
        for rule in spec["ingress"] + spec["egress"]:
            if rule.get("protocol") and draw(st.booleans()):
                rule.setdefault("destination", {})["ports"] = [
                    draw(st.sampled_from((5432, "5000:6000", "pg", "http")))
                ]
        ns = draw(st.sampled_from(("", *NS)))
        name = f"{spec['tier']}.p{i}" if spec["tier"] != "default" else f"p{i}"
        if ns:
            for rule in spec["ingress"] + spec["egress"]:
                for side in ("source", "destination"):
                    if rule.get(side, {}).get("namespaceSelector") == "global()":
                        rule[side]["selector"] = "partner == 'p'"
            found.append(b.np(ns, name, **spec))
        else:
            for rule in spec["ingress"] + spec["egress"]:
                for side in ("source", "destination"):
                    if rule.get(side, {}).get("namespaceSelector") == "global()":
                        del rule[side]["namespaceSelector"]
            found.append(b.gnp(name, **spec))
    return found


SETTINGS = fuzzing.depth(300)


@SETTINGS
@given(data=st.data())
def test_compiled_form_agrees_with_calicos_tier_walk(data: st.DataObject) -> None:
    pods = _pods(data.draw)
    found = data.draw(calico_sets())
    evidence = evidence_model.Evidence.of([*NAMESPACES, ACCOUNT, *pods, *found])
    calico = b.calico_view([*found])
    parties = [*pods, OUTSIDE]
    for src in parties:
        for dst in pods:
            if src is dst:
                continue
            result = engine.check_flow(evidence, _peer(src), _peer(dst), 5432, "TCP", model.CALICO)
            for which, side in ((model.Direction.EGRESS, result.egress), (IN, result.ingress)):
                expected = b.verdict_in(calico, src, dst, 5432, which)
                assert side.allowed is expected.allowed, (which, src, dst, side.reason, expected)


@SETTINGS
@given(data=st.data())
def test_fast_matrix_equals_the_per_pair_matrix_under_calico(data: st.DataObject) -> None:
    pods = _pods(data.draw)
    found = data.draw(calico_sets())
    if data.draw(st.booleans()):
        found.append(KUBE_ALLOW_WEB)
    evidence = evidence_model.Evidence.of([*NAMESPACES, ACCOUNT, *pods, *found])
    matrix.clear_cache()
    found_rows = matrix.matrix(evidence, 5432, "TCP", model.CALICO)
    oracle = matrix.oracle_matrix(evidence, 5432, "TCP", model.CALICO)
    assert found_rows.rows == oracle.rows


@SETTINGS
@given(data=st.data())
def test_two_worker_processes_compute_the_calico_matrix_of_one(data: st.DataObject) -> None:
    pods = _pods(data.draw)
    evidence = evidence_model.Evidence.of([*NAMESPACES, ACCOUNT, *pods, *data.draw(calico_sets())])
    view, ordered = cluster.of(evidence), matrix.ordered_pods(evidence)
    alone = fast.rows_in(view, ordered, 5432, "TCP", model.CALICO, fork=False)
    assert fast.rows_in(view, ordered, 5432, "TCP", model.CALICO, fork=True) == alone
