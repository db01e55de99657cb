"""A Calico fix is runnable as printed on the cluster it came from: where Calico's policies are
served only as crd.projectcalico.org/v1 CRDs (no Calico API server; the evidence shows it by the
objects' apiVersion), `kubectl apply` of a projectcalico.org/v3 object fails, so the fix, its
undo and its in-place alternative are calicoctl commands, and the report says why; where
projectcalico.org/v3 is served, kubectl. Every printed shell block passes `bash -n`."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.reports import text_report
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import reportkit

DEMO = "calico-global-deny"


def _as_crds(obj: dict[str, Any]) -> dict[str, Any]:
    if str(obj.get("apiVersion", "")).startswith("projectcalico.org/"):
        return {**copy.deepcopy(obj), "apiVersion": "crd.projectcalico.org/v1"}
    return obj


def _diagnose(crd_only: bool):  # type: ignore[no-untyped-def]
    demo = demos.load(DEMO)
    assert demo.incident is not None
    objs = [_as_crds(o) if crd_only else o for o in demo.objects]
    evidence = evidence_model.Evidence.of(
        objs, logs=demo.logs, metrics=demo.metrics, incident=demo.incident
    )
    result = engine.run(runbook_model.builtin(demo.incident.runbook), evidence, demo.incident)
    (finding,) = [f for f in result.findings if f.check == "network-policy"]
    return result, finding


@pytest.mark.parametrize(("crd_only", "tool"), [(True, "calicoctl"), (False, "kubectl")])
def test_the_calico_fix_uses_the_tool_that_can_write_the_policy(crd_only: bool, tool: str) -> None:
    result, finding = _diagnose(crd_only)
    assert finding.fix is not None
    (step,) = finding.fix.steps
    assert step.content.startswith(f"{tool} apply -f - <<'EOF'\n")
    assert "apiVersion: projectcalico.org/v3" in step.content
    assert finding.fix.rollback.startswith(f"{tool} ")
    said = " ".join((step.description, *finding.fix.alternatives))
    if crd_only:
        assert "crd.projectcalico.org/v1" in said and "no Calico API server" in said
        assert all(a.startswith(("calicoctl", "edit")) or "kubectl apply" in a
                   for a in finding.fix.alternatives)  # fmt: skip
    else:
        assert "without the Calico API server" in said
    for columns in (80, 120):
        text = text_report.render(result, width=columns, color=False)
        blocks = [b for b in reportkit.code_blocks(result, text) if b.language == "shell"]
        assert blocks
        for block in blocks:
            complaint = reportkit.bash_syntax(block.text)
            assert not complaint, f"{block.text[:200]!r}: {complaint}"
        assert f"{tool} apply -f - <<'EOF'" in text
