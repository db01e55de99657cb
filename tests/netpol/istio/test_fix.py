"""Istio fixes through the one patch path: each opens the flow (or says why it cannot), with
its blast radius; and the demo's diagnosis names the mTLS policy, both fixes and the safer one."""

from __future__ import annotations

from pathlib import Path

import pytest

from paramedic.checks import model, network_policy
from paramedic.evidence import bundle, demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.netpol import engine, patch, peers

BUNDLE = Path(__file__).parent / "conformance" / "objects.yaml"


@pytest.fixture(scope="module")
def conformance() -> evidence_model.Evidence:
    return bundle.load(BUNDLE)


def plan(ev: evidence_model.Evidence, a: str, b: str, port: int) -> patch.Patch:
    src = peers.resolve(ev, a, source=True)[0].peer
    (dst,) = peers.resolve(ev, b, port)
    result = engine.check_flow(ev, src, dst.peer, dst.port)
    assert not result.allowed
    return patch.minimal_patch(ev, result, src, dst.peer, dst.port, "TCP")


def test_no_allow_rule_matched_is_fixed_by_an_allow_policy_naming_the_principal(conformance):
    fix = plan(conformance, "app/web", "data/postgres-0", 5432)
    (obj,) = fix.objects
    assert obj["kind"] == "AuthorizationPolicy" and obj["metadata"]["namespace"] == "data"
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "postgres"}}
    assert obj["spec"]["rules"] == [
        {
            "from": [{"source": {"principals": ["corp.example/ns/app/sa/web"]}}],
            "to": [{"operation": {"ports": ["5432"]}}],
        }
    ]
    assert fix.opens_flow
    assert [f.describe() for f in fix.blast_radius] == ["app/web -> data/postgres-0 TCP/5432"]


def test_a_deny_rule_is_narrowed_in_place_because_no_allow_beats_it(conformance):
    fix = plan(conformance, "app/batch", "data/postgres-0", 5432)
    assert fix.objects == () and not fix.opens_flow
    (edit,) = fix.in_place
    assert edit.target == "AuthorizationPolicy data/deny-batch-admin" and edit.opened == 1
    source = edit.patch[0]["value"]["from"][0]["source"]
    assert source["notPrincipals"] == ["corp.example/ns/app/sa/batch"]
    assert "kubectl -n data patch authorizationpolicies.security.istio.io" in edit.command
    assert any("beats every ALLOW" in n for n in fix.notes)


def test_strict_mtls_is_fixed_by_an_exception_or_by_injecting_the_client():
    ev = demos.load("istio-strict-mtls")
    assert ev.incident is not None
    scope = resolve.resolve(ev, ev.incident, default_port=5432)
    finding = network_policy.run(model.Context(evidence=ev, scope=scope))
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.summary.startswith("PeerAuthentication istio-system/default blocks ingress")
    assert finding.fix is not None
    (step,) = finding.fix.steps
    created = step.action["object"]
    assert created["kind"] == "PeerAuthentication"
    assert created["spec"] == {
        "selector": {"matchLabels": {"app": "profile-db"}},
        "portLevelMtls": {"5432": {"mode": "PERMISSIVE"}},
    }
    assert finding.fix.rollback == (
        "kubectl -n data delete peerauthentications.security.istio.io "
        "allow-user-service-to-profile-db-5432-plaintext"
    )
    (alternative,) = finding.fix.alternatives
    assert "Deployment app/user-service (inject its sidecar)" in alternative
    assert "sidecar.istio.io/inject" in alternative and "opens 2 flows" in alternative
    assert "injecting the client is safer" in finding.why
    radius = finding.details["blast_radius"]
    assert {(r["to"], r["port"]) for r in radius} == {("data/profile-db-0", 5432)}
    texts = [c.text for c in finding.evidence]
    assert any("filter_chain_not_found" in t for t in texts)
    assert any("server closed the connection unexpectedly" in t for t in texts)


def test_applying_the_exception_rules_the_check_out():
    ev = demos.load("istio-strict-mtls")
    assert ev.incident is not None
    scope = resolve.resolve(ev, ev.incident, default_port=5432)
    finding = network_policy.run(model.Context(evidence=ev, scope=scope))
    assert finding.fix is not None
    fixed = evidence_model.Evidence.of(
        (*ev.objects, finding.fix.steps[0].action["object"]), incident=ev.incident
    )
    after = network_policy.run(model.Context(evidence=fixed, scope=scope))
    assert after.verdict is model.Verdict.RULED_OUT
