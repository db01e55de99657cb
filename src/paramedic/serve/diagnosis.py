"""One diagnosis, as the worker pool runs it: gather live, run the runbook, render, capture, store.

This is the whole pipeline of `paramedic diagnose` + `capture` for one incident, run in a
worker process (so a busy diagnosis never holds the web server's interpreter), which also
stores what it made: the diagnosis (its JSON document, the HTML report rendered with the
`diagnose -o html` template, the top cause, the captured bundle as .tar.gz bytes with Secret
values digested by the bundle writer), or the one line saying why there is none, through its
own connection to the store (Store.finish / Store.fail, only while the server's claim of this
attempt holds). The server gets back only the top cause or that line: the documents never
cross to it, and its event loop shares no interpreter with their encoding. A failure to store
is `NotStored` (the incident's lease runs out and it is retried); nothing else is raised.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
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
from paramedic.serve import store

PRELOAD = (__name__, *builtin.MODULES, "kubernetes.client", "kubernetes.config")
"""What every diagnosis imports: imported once where the worker processes are forked from
(worker.py), so that a new worker starts with them (the kubernetes client is imported lazily
elsewhere, to keep the CLI's start fast)."""

html_report.prepare()  # imported with PRELOAD: every worker forked then has the page compiled


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
    store_url: str
    """Where the result goes (the server's --store)."""
    attempt: int
    """The claim this run belongs to (records.Record.attempts once claimed)."""
    alert_url: str = ""
    """The alert's source (its generatorURL), linked from the report."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What the server hears back once the result is in the store."""

    top_cause: str | None = None
    error: str = ""
    """One line when there is no diagnosis."""
    stored: bool = True
    """False: the claim no longer held (the result was dropped; another attempt has it)."""


class NotStored(Exception):
    """The store refused the result (one line; plain, so it crosses back to the server)."""


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


def ready() -> int:
    """Nothing but this process's id: the pool submits it once per worker at start, so the
    processes exist, with this module imported, before the first alert."""
    return os.getpid()


def prepare(nice: int) -> None:
    """A worker process's start: lower its priority by `nice` (settings.worker_nice), and leave
    what it was forked with (PRELOAD's modules) out of its garbage collections: its first full
    collection walked all of it, and wrote to every page of it that the fork still shared (a
    new worker's first diagnosis 0.25 s of CPU before, about 0.18 s after)."""
    gc.freeze()
    if nice > 0:
        os.nice(nice)


@functools.cache
def _store(url: str) -> store.Store:
    """This worker process's connection to the store, made once."""
    return store.Store.connect(url)


def run(request: Request) -> Result:
    """Diagnose `request` and store the diagnosis, or why there is none; NotStored when the
    store cannot take it."""
    made = _diagnose(request)
    try:
        db = _store(request.store_url)
        if isinstance(made, str):
            stored = db.fail(request.incident_id, made, attempt=request.attempt)
            return Result(error=made, stored=stored)
        document, report, bundle = made
        cause = top_cause(document)
        stored = db.finish(
            request.incident_id,
            diagnosis=document,
            report=report,
            top_cause=cause,
            bundle=bundle,
            attempt=request.attempt,
        )
        return Result(top_cause=cause, stored=stored)
    except Exception as exc:
        raise NotStored(store.first_line(exc)) from None


def _diagnose(request: Request) -> tuple[dict[str, Any], str, bytes] | str:
    """(document, HTML report, bundle) of `request` made live within its timeout, the checks
    included (one the deadline overtakes is inconclusive, as in `diagnose --timeout`); or the
    one line saying why not — never an exception."""
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
        report = html_report.render(result, links=links(request))
        return result.as_dict(), report, _bundle(evidence)
    except errors.ParamedicError as exc:
        return str(exc)
    except Exception as exc:  # a bug must fail this incident, not the worker
        return f"internal error, please report: {type(exc).__name__}: {exc}"


def _bundle(evidence: model.Evidence) -> bytes:
    """The evidence as `capture` writes it (.tar.gz, Secret values digested)."""
    with tempfile.TemporaryDirectory(prefix="paramedic-serve-") as tmp:
        path = writer.write(evidence, Path(tmp) / "bundle.tar.gz")
        return path.read_bytes()
