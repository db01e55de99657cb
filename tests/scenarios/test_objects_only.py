"""Honest verdicts by rule: every demo turned into an objects-only bundle (no logs, metrics or
probes) - no check rules out a cause whose evidence is absent; it says inconclusive and gives
the command that gets the evidence. And a gap in a kind a check needs does the same."""

from __future__ import annotations

import pytest

from paramedic.checks import model, registry, verdicts
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

RUNBOOK = runbook_model.builtin("db-connectivity")
LOG_BASED = ("credentials", "connection-pool")
"""Checks whose ruled-out rests on log lines (or a probe): without them they cannot rule out."""


def _objects_only(name: str) -> evidence_model.Evidence:
    demo = demos.load(name)
    return evidence_model.Evidence.of(demo.objects, incident=demo.incident)


@pytest.mark.parametrize("name", [d.name for d in demos.available()])
def test_no_check_rules_out_from_absent_evidence(name: str) -> None:
    evidence = _objects_only(name)
    assert evidence.incident is not None
    result = engine.run(RUNBOOK, evidence, evidence.incident)
    assert not result.errors
    by_check = {f.check: f for f in (*result.findings, *result.next)}
    for check_id in LOG_BASED:
        assert by_check[check_id].verdict is not model.Verdict.RULED_OUT, check_id
    scope = _scope(evidence)
    if scope.external:  # an outside target: only client lines or a tcp probe can clear the path
        assert by_check["firewall"].verdict is not model.Verdict.RULED_OUT
    for finding in by_check.values():
        spec = registry.get(finding.check)
        assert spec is not None
        if finding.verdict is model.Verdict.RULED_OUT:
            ctx = model.Context(evidence=evidence, scope=scope, earlier={})
            assert verdicts.unmet(spec.needs, ctx) == [], finding.check
        if finding.verdict is model.Verdict.INCONCLUSIVE:
            assert finding.missing, f"{finding.check}: inconclusive without the command"


def _scope(evidence: evidence_model.Evidence) -> resolve.Scope:
    assert evidence.incident is not None
    return resolve.resolve(evidence, evidence.incident, default_port=RUNBOOK.default_port)


def test_credentials_without_any_log_is_inconclusive_with_the_logs_command() -> None:
    evidence = _objects_only("healthy")
    assert evidence.incident is not None
    result = engine.run(RUNBOOK, evidence, evidence.incident)
    (finding,) = [f for f in result.findings if f.check == "credentials"]
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "the client's logs" in finding.summary
    assert "kubectl logs -n app deployment/user-service --all-containers --tail=200" in (
        finding.missing
    )


def test_a_gap_in_a_needed_kind_turns_ruled_out_into_inconclusive() -> None:
    demo = demos.load("healthy")
    gap = evidence_model.Gap("Node", "", "cannot list nodes: forbidden (for user alice)")
    evidence = evidence_model.Evidence.of(
        demo.objects,
        logs=demo.logs,
        metrics=demo.metrics,
        probes=demo.probes,
        incident=demo.incident,
        gaps=(gap,),
    )
    assert evidence.incident is not None
    result = engine.run(RUNBOOK, evidence, evidence.incident)
    (finding,) = [f for f in result.findings if f.check == "resources"]
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "Node objects (cannot list nodes: forbidden (for user alice))" in finding.summary
    assert "kubectl get node -o yaml" in finding.missing
