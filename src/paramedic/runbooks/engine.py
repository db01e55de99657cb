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

import ctypes
import dataclasses
import threading
import time

from paramedic.checks import builtin, model, registry, verdicts
from paramedic.errors import IncidentError
from paramedic.evidence import model as evidence_model
from paramedic.evidence import needs as needs_model
from paramedic.evidence import redact, selection
from paramedic.kube import names, resolve
from paramedic.runbooks import diagnosis
from paramedic.runbooks import model as runbook_model

CHECKS_AT_LEAST = 1.0
"""Seconds the checks get even when gathering used the whole --timeout (a diagnosis ends within
--timeout + this, plus rendering)."""


def checks_deadline(started: float, timeout: float) -> float:
    """The deadline (time.monotonic()) for the checks of a diagnosis that started at `started`
    with `timeout` seconds in all: what is left of it, at least CHECKS_AT_LEAST."""
    return max(started + timeout, time.monotonic() + min(CHECKS_AT_LEAST, timeout))


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
    *,
    deadline: float | None = None,
    timeout: float | None = None,
) -> diagnosis.Diagnosis:
    """Diagnose `incident` from `evidence` with `runbook`.

    With a `deadline` (time.monotonic()), the checks run in a worker thread and whatever has
    not finished by then is an inconclusive finding ("did not finish within --timeout
    `timeout` s", plus a gap line) instead of a wait: the worker is told to start no further
    check and is stopped where it is (`_overtake`), never joined.
    Raises IncidentError when the incident does not resolve against the evidence."""
    broken = builtin.load()
    scope = resolve.resolve(evidence, incident, default_port=runbook.default_port)
    done = _Done()
    done.errors += [
        diagnosis.CheckError(check=module, error=f"failed to load: {why}")
        for module, why in broken.items()
    ]
    wanted = (*runbook.checks, *runbook.next)
    worker = None
    if deadline is None:
        _run_checks(wanted, evidence, scope, done)
    else:
        worker = threading.Thread(
            target=_checks_thread, args=(wanted, evidence, scope, done), name=CHECKS, daemon=True
        )
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
    earlier, errors = done.stop()
    if worker is not None:
        with done.lock:
            if not done.finished:
                _overtake(worker)
    gaps = [str(gap) for gap in evidence.gaps]
    for check_id in wanted:
        if check_id not in earlier and not any(e.check == check_id for e in errors):
            earlier[check_id] = _unfinished(check_id, timeout)
            gaps.append(f"check {check_id} did not finish within --timeout {timeout or 0:g} s")
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
            gaps=tuple(gaps),
            incident_title=incident.title,
            evidence_time=evidence.taken_at,
            evidence_time_basis=evidence.taken_basis,
        )
    )


CHECKS = "paramedic-checks"
"""The name of the thread a diagnosis with a deadline runs its checks in."""


class _Overtaken(SystemExit):
    """Raised inside a check the deadline overtook. A SystemExit: no check's `except Exception`
    catches it, and a thread ended by one ends silently."""


def _checks_thread(
    wanted: tuple[str, ...],
    evidence: evidence_model.Evidence,
    scope: resolve.Scope,
    done: _Done,
) -> None:
    """`_run_checks` in the worker thread, until it ends or is overtaken. However it ends,
    `finished` is set under the lock inside the outer `try`, and `_overtake` (also under the
    lock) strikes only before: the exception is always raised where it is caught, and never
    sent to a thread that has ended (whose id another thread may have by then)."""
    try:
        try:
            _run_checks(wanted, evidence, scope, done)
        finally:
            with done.lock:
                done.finished = True
    except _Overtaken:
        return


def _overtake(worker: threading.Thread) -> None:
    """Stop the checks' thread at its next Python instruction, instead of letting it compute a
    result no one will read: a long network-policy computation over a pathological cluster
    kept a core busy for seconds after the report was out, and in `paramedic serve`, whose
    worker processes outlive a diagnosis, every such incident would have left one running.
    Should the exception land while a garbage-collector callback or a finaliser runs in that
    thread, Python reports and drops it there, and the check runs to its end as it did before
    (paramedic installs no such callback; Hypothesis, in the tests, does)."""
    ident = worker.ident
    if ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(ident), ctypes.py_object(_Overtaken)
        )


class _Done:
    """The findings and errors of the checks that finished, shared with the worker thread; once
    `stop` is called the worker records nothing more and starts no further check."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stopped = False
        self.finished = False
        self.findings: dict[str, model.Finding] = {}
        self.errors: list[diagnosis.CheckError] = []

    def stop(self) -> tuple[dict[str, model.Finding], list[diagnosis.CheckError]]:
        with self.lock:
            self.stopped = True
            return dict(self.findings), list(self.errors)


def _run_checks(
    wanted: tuple[str, ...],
    evidence: evidence_model.Evidence,
    scope: resolve.Scope,
    done: _Done,
) -> None:
    for check_id in wanted:
        with done.lock:
            if done.stopped:
                return
            earlier = dict(done.findings)
        spec = registry.get(check_id)
        error = ""
        if spec is None:
            error = "check not available in this version"
        else:
            context = model.Context(evidence=evidence, scope=scope, earlier=earlier)
            try:
                finding = verdicts.honest(
                    _validated(spec, spec.function(context)), spec.needs, context
                )
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
        with done.lock:
            if done.stopped:
                return
            if error:
                done.errors.append(diagnosis.CheckError(check=check_id, error=error))
            else:
                done.findings[check_id] = finding


def _unfinished(check_id: str, timeout: float | None) -> model.Finding:
    """The finding of a check the deadline overtook: inconclusive, and how to get an answer."""
    spec = registry.get(check_id)
    return model.Finding(
        verdict=model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.LOW,
        summary=f"did not finish within --timeout {timeout or 0:g} s",
        missing="run the diagnosis again with a longer --timeout (e.g. --timeout 120)",
        check=check_id,
        title=spec.title if spec is not None else check_id,
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


def reads(
    runbook: runbook_model.Runbook, incident: evidence_model.Incident
) -> selection.Selection | None:
    """What diagnosing `incident` reads of a big dump (evidence/selection.py): the namespaces
    of the source, the target and the runbook's scopes, and the kinds its checks' needs read
    cluster-wide; None (read everything) when the source's namespace must be guessed from the
    whole dump or the target is an IP address, which any namespace may hold."""
    given, _, _ = names.split_source(incident.source)
    namespace = given or incident.namespace
    host, _ = names.split_port(incident.target)
    if not namespace or names.is_ip(host):
        return None
    try:
        target_namespace, _ = names.service_name(host, namespace)
    except IncidentError:
        return None  # the diagnosis says so, after a full load
    # a dotted name is a Service `name.ns` when namespace `ns` exists: keep `ns` to see it
    dotted = host.rstrip(".").lower().split(".")[1:2]
    return selection.Selection.of(needs(runbook), {namespace, target_namespace, *dotted})


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
