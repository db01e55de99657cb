"""One diagnosis, as the worker pool runs it: gather live, run the runbook, render, capture.

This is the whole pipeline of `paramedic diagnose` + `capture` for one incident, run in a
worker process (so a busy diagnosis never holds the web server's interpreter). It never
raises: the result is either the diagnosis (its JSON document, the HTML report rendered with
the `diagnose -o html` template, the top cause, the captured bundle as .tar.gz bytes with
Secret values digested by the bundle writer) or one line saying why there is none.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from paramedic import errors, timeouts
from paramedic.checks import builtin
from paramedic.evidence import model, writer
from paramedic.gather import live
from paramedic.reports import html_report
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

PRELOAD = (__name__, *builtin.MODULES, "kubernetes.client", "kubernetes.config")
"""What every diagnosis imports: imported once where the worker processes are forked from
(worker.py), so that a new worker starts with them (the kubernetes client is imported lazily
elsewhere, to keep the CLI's start fast)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """What to diagnose and how to reach the cluster (picklable: it crosses to the worker)."""

    incident_id: int
    source: str
    target: str
    port: int | str | None
    namespace: str | None
    timeout: float
    kubeconfig: str | None
    context: str | None
    alert_url: str = ""
    """The alert's source (its generatorURL), linked from the report."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    diagnosis: dict[str, Any] | None = None
    report: str = ""
    top_cause: str | None = None
    bundle: bytes = b""
    error: str = ""
    """One line when there is no diagnosis."""


def links(request: Request) -> list[tuple[str, str]]:
    """The navigation of an incident's page: the list, the bundle, the alert's source."""
    found = [
        ("All incidents", "/"),
        ("Evidence bundle (.tar.gz)", f"/incidents/{request.incident_id}/bundle.tar.gz"),
    ]
    if request.alert_url.startswith(("http://", "https://")):
        found.append(("Alert source", request.alert_url))
    return found


def top_cause(document: dict[str, Any]) -> str | None:
    """'check: summary' of the most likely cause, or None when no check found one."""
    for finding in document.get("findings") or ():
        if finding.get("verdict") == "cause":
            return f"{finding.get('check')}: {finding.get('summary')}"
    return None


def prepare(nice: int) -> None:
    """A worker process's start: lower its priority by `nice` (settings.worker_nice)."""
    if nice > 0:
        os.nice(nice)


def run(request: Request) -> Result:
    """Diagnose `request` live within its timeout, the checks included (one the deadline
    overtakes is inconclusive, as in `diagnose --timeout`); every failure is a Result with
    `error`, never an exception."""
    started = time.monotonic()
    incident = model.Incident(
        source=request.source,
        target=request.target,
        port=request.port,
        namespace=request.namespace,
    )
    try:
        runbook = runbook_model.builtin(incident.runbook)
        evidence = live.gather(
            incident,
            kubeconfig=request.kubeconfig,
            context=request.context,
            limits=timeouts.DEFAULT.scaled_to(request.timeout),
            probe_pod=False,
            probe_image=None,
            db_probe=False,
            progress=False,
            wanted=engine.needs(runbook),
        )
        result = engine.run(
            runbook,
            evidence,
            evidence.incident or incident,
            deadline=engine.checks_deadline(started, request.timeout),
            timeout=request.timeout,
        )
        document = result.as_dict()
        report = html_report.render(result, links=links(request))
        return Result(
            diagnosis=document,
            report=report,
            top_cause=top_cause(document),
            bundle=_bundle(evidence),
        )
    except errors.ParamedicError as exc:
        return Result(error=str(exc))
    except Exception as exc:  # a bug must fail this incident, not the worker
        return Result(error=f"internal error, please report: {type(exc).__name__}: {exc}")


def _bundle(evidence: model.Evidence) -> bytes:
    """The evidence as `capture` writes it (.tar.gz, Secret values digested)."""
    with tempfile.TemporaryDirectory(prefix="paramedic-serve-") as tmp:
        path = writer.write(evidence, Path(tmp) / "bundle.tar.gz")
        return path.read_bytes()
