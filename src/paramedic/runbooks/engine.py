"""Run a runbook over evidence: resolve the incident, run each check in isolation, rank.

The engine owns a finding's `check` and `title` (from the check's registration). A broken
check (it raises, returns something that is not a `Finding`, claims another check's id, or uses
a priority off the `Priority` scale) becomes an entry in `errors`; the others still run. A
ruled-out finding whose required evidence is absent or hidden by a gap becomes inconclusive
(checks.verdicts), whatever the check said.
Ranking puts causes first (by the check's own priority, then confidence, then runbook order =
likelihood), then inconclusive findings, then ruled-out ones.
"""

from __future__ import annotations

import dataclasses

from paramedic.checks import builtin, model, registry, verdicts
from paramedic.evidence import model as evidence_model
from paramedic.evidence import needs as needs_model
from paramedic.evidence import redact
from paramedic.kube import resolve
from paramedic.runbooks import diagnosis
from paramedic.runbooks import model as runbook_model

_VERDICT_ORDER = {
    model.Verdict.CAUSE: 0,
    model.Verdict.WARNING: 1,
    model.Verdict.INCONCLUSIVE: 2,
    model.Verdict.RULED_OUT: 3,
}
_CONFIDENCE_ORDER = {model.Confidence.HIGH: 0, model.Confidence.MEDIUM: 1, model.Confidence.LOW: 2}


def run(
    runbook: runbook_model.Runbook,
    evidence: evidence_model.Evidence,
    incident: evidence_model.Incident,
) -> diagnosis.Diagnosis:
    """Diagnose `incident` from `evidence` with `runbook`.

    Raises IncidentError when the incident does not resolve against the evidence."""
    broken = builtin.load()
    scope = resolve.resolve(evidence, incident, default_port=runbook.default_port)
    earlier: dict[str, model.Finding] = {}
    errors = [
        diagnosis.CheckError(check=module, error=f"failed to load: {why}")
        for module, why in broken.items()
    ]
    for check_id in (*runbook.checks, *runbook.next):
        spec = registry.get(check_id)
        if spec is None:
            errors.append(
                diagnosis.CheckError(check=check_id, error="check not available in this version")
            )
            continue
        context = model.Context(evidence=evidence, scope=scope, earlier=dict(earlier))
        try:
            finding = verdicts.honest(_validated(spec, spec.function(context)), spec.needs, context)
        except Exception as exc:
            errors.append(
                diagnosis.CheckError(check=check_id, error=f"{type(exc).__name__}: {exc}")
            )
            continue
        earlier[check_id] = finding
    order = {check_id: i for i, check_id in enumerate(runbook.checks)}
    findings = sorted(
        (earlier[c] for c in runbook.checks if c in earlier),
        key=lambda f: (
            _VERDICT_ORDER[f.verdict],
            f.priority if f.verdict is model.Verdict.CAUSE else 0,
            _CONFIDENCE_ORDER[f.confidence],
            order[f.check],
        ),
    )
    # The redaction boundary's last pass: whatever a check quoted, no credential is rendered.
    return redact.strings(
        diagnosis.Diagnosis(
            runbook=runbook.id,
            title=runbook.title,
            incident=scope.as_dict(),
            findings=tuple(findings),
            next=tuple(earlier[c] for c in runbook.next if c in earlier),
            errors=tuple(errors),
            provenance=evidence.provenance,
            gaps=tuple(str(gap) for gap in evidence.gaps),
            incident_title=incident.title,
            evidence_time=evidence.taken_at,
            evidence_time_basis=evidence.taken_basis,
        )
    )


def needs(runbook: runbook_model.Runbook) -> tuple[needs_model.Need, ...]:
    """What the runbook's checks (and its `next` checks) read, each need once, in runbook order:
    live gathering fetches this (gather.plan.listings) on top of what resolving the incident
    needs."""
    builtin.load()
    found: dict[needs_model.Need, None] = {}
    for check_id in (*runbook.checks, *runbook.next):
        spec = registry.get(check_id)
        if spec is not None:
            found.update(dict.fromkeys(spec.needs))
    return tuple(found)


def _validated(spec: registry.CheckSpec, result: object) -> model.Finding:
    """The check's finding stamped with its registered id and title; TypeError/ValueError when the
    check broke the contract (the caller turns that into an error entry)."""
    if not isinstance(result, model.Finding):
        raise TypeError(f"check returned {type(result).__name__}, not a Finding")
    if result.check and result.check != spec.id:
        raise ValueError(f"finding names check {result.check!r}, registered as {spec.id!r}")
    if not isinstance(result.verdict, model.Verdict) or not isinstance(
        result.confidence, model.Confidence
    ):
        raise TypeError("verdict and confidence must be a Verdict and a Confidence")
    return dataclasses.replace(
        result,
        check=spec.id,
        title=spec.title,
        priority=model.Priority(result.priority),
    )
