"""What `diagnose --apply` may apply, decided from the diagnosis of each shipped demo: only a
fix that creates NetworkPolicies, opens the flow and closes none."""

from __future__ import annotations

import dataclasses
import functools

import pytest

from paramedic import errors
from paramedic.checks import model
from paramedic.evidence import demos
from paramedic.runbooks import diagnosis, engine, remedy
from paramedic.runbooks import model as runbook_model


@functools.cache
def _diagnosis(name: str) -> diagnosis.Diagnosis:
    evidence = demos.load(name)
    assert evidence.incident is not None
    runbook = runbook_model.builtin(evidence.incident.runbook)
    return engine.run(runbook, evidence, evidence.incident)


def test_the_reference_fix_is_planned_as_the_report_prints_it_plus_who_made_it() -> None:
    result = _diagnosis(demos.DEFAULT)
    plan = remedy.plan(result)
    assert plan.check == "network-policy"
    fix = result.causes[0].fix
    assert fix is not None
    [printed] = [s.action["object"] for s in fix.steps]
    [planned] = plan.objects
    assert planned["spec"] == printed["spec"]
    assert planned["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "paramedic"}
    assert planned["metadata"]["annotations"] == {
        "paramedic.io/incident": "Deployment app/user-service -> Service data/profile-db"
    }
    assert "labels" not in printed["metadata"]  # the report's own fix is left as it was


@pytest.mark.parametrize(
    ("demo", "said"),
    [
        ("healthy", "--apply: no cause found, nothing to apply"),
        (
            "too-many-connections",
            "--apply applies only NetworkPolicy fixes; the top cause is connection-pool",
        ),
        ("cilium-deny", "--apply only creates NetworkPolicies; this fix does more"),
        ("calico-global-deny", "--apply only creates NetworkPolicies; this fix does more"),
    ],
)
def test_any_other_fix_is_left_to_a_person(demo: str, said: str) -> None:
    with pytest.raises(errors.InputError) as refused:
        remedy.plan(_diagnosis(demo))
    assert str(refused.value).startswith(said)


def test_a_cause_found_with_missing_evidence_is_not_applied() -> None:
    result = _diagnosis(demos.DEFAULT)
    top = result.causes[0]
    changed = dataclasses.replace(top, confidence=model.Confidence.MEDIUM)
    findings = tuple(changed if f is top else f for f in result.findings)
    with pytest.raises(errors.InputError) as refused:
        remedy.plan(dataclasses.replace(result, findings=findings))
    assert str(refused.value) == (
        "--apply: the cause is of medium confidence (evidence was missing); not applied"
    )


@pytest.mark.parametrize(
    ("patch", "said"),
    [
        ({"closes": [{"src": "a", "dst": "b"}]}, "--apply: the fix would also close 1 flow(s)"),
        ({"opens_flow": False}, "--apply: the fix was not shown to open the flow"),
    ],
)
def test_a_fix_that_closes_a_flow_or_opens_none_is_not_applied(
    patch: dict[str, object], said: str
) -> None:
    result = _diagnosis(demos.DEFAULT)
    top = result.causes[0]
    changed = dataclasses.replace(
        top, details={**top.details, "patch": {**top.details["patch"], **patch}}
    )
    findings = tuple(changed if f is top else f for f in result.findings)
    with pytest.raises(errors.InputError) as refused:
        remedy.plan(dataclasses.replace(result, findings=findings))
    assert str(refused.value).startswith(said)
