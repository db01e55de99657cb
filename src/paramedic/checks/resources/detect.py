"""Detectors of `resources`: the database pods' signals (`observe`: OOM kills, evictions, node
pressure, usage against limits, slow statements), then the first detector that decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.resources import facts, fixes
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, resolve

_CLIENT_MEANINGS = ("db-not-ready", "db-crashed", "conn-reset")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """What the evidence says about the database pods' memory and CPU, before any verdict."""

    ev: evidence_model.Evidence
    db_pods: list[Mapping[str, Any]]
    sigs: list[facts.PodSignals]
    oom: list[model.Cite]
    recovery: list[model.Cite]
    evicted: list[model.Cite]
    pressure: list[model.Cite]
    usage: list[model.Cite]
    hot: dict[str, list[facts.PodSignals]]
    """Pods at >= NEAR_LIMIT of their 'memory' / 'cpu' limit."""
    slow: list[model.Cite]
    killed: list[model.Cite]
    client: list[model.Cite]
    has_metrics: bool
    missing: str
    restarts: int


def no_pods(scope: resolve.Scope) -> model.Finding:
    """The database pods cannot be identified: outside the cluster, or selected by nothing."""
    if scope.external:
        summary = f"{scope.target} runs outside the cluster: its memory and CPU cannot be seen here"
        missing = "the database host's memory/CPU metrics and its log (out of memory, signal 9)"
    else:
        summary = (
            f"{scope.target} selects no pod, so the database pods cannot be identified (see "
            "service-endpoints)"
        )
        missing = f"kubectl get pods -n {scope.target_namespace} --show-labels"
    return _finding(model.Verdict.INCONCLUSIVE, model.Confidence.LOW, summary, missing=missing)


def observe(ctx: model.Context) -> Observed:
    ev, scope = ctx.evidence, ctx.scope
    db_pods = list(scope.target_pods)
    sigs = [facts.signals(ev, p) for p in db_pods]
    has_metrics = any(s.has_metrics for s in sigs)
    top = f"kubectl top pod -n {objects.namespace(db_pods[0])} --containers"
    return Observed(
        ev=ev,
        db_pods=db_pods,
        sigs=sigs,
        oom=[c for s in sigs for c in (*s.oom, *s.log_hits.get("oom", ()))],
        recovery=sorted(
            (c for s in sigs for c in s.log_hits.get("recovery", ())),
            key=lambda c: "recovery mode" not in c.text,  # the line clients also see, first
        )[:2],
        evicted=[s.evicted for s in sigs if s.evicted],
        pressure=list({c.text: c for s in sigs for c in s.pressure}.values()),
        usage=[c for s in sigs for c in facts.usage_cites(s)],
        hot={
            w: [s for s in sigs for u in s.usage if (u.ratio(w) or 0) >= facts.NEAR_LIMIT]
            for w in ("memory", "cpu")
        },
        slow=[c for s in sigs for c in s.slow],
        killed=[c for s in sigs for c in s.killed],
        client=[
            c.cite("client: ")
            for c in clues.first_per_pod(
                clues.log_clues(ev, scope.source_pods), _CLIENT_MEANINGS, limit=2
            )
        ],
        has_metrics=has_metrics,
        missing="" if has_metrics else f"current usage (needs metrics-server): {top}",
        restarts=sum(s.restarts for s in sigs),
    )


def oom_killed(seen: Observed) -> model.Finding | None:
    if not seen.oom:
        return None
    return _finding(
        model.Verdict.CAUSE,
        model.Confidence.HIGH,
        f"{_names(seen.sigs, lambda s: bool(s.oom or s.log_hits.get('oom')))} ran out of memory "
        f"(OOM kill, exit 137; {seen.restarts} restart(s)): PostgreSQL drops every session and "
        "recovers after each kill",
        evidence=(
            *seen.oom[:3],
            *seen.usage,
            *seen.recovery[:1],
            *seen.slow[:1],
            *seen.recovery[1:],
            *seen.client,
        ),
        priority=model.Priority.PATH,
        missing=seen.missing,
        remedy=fixes.resize(seen.ev, seen.sigs, memory=True, cpu=False, why=_WHY_OOM),
    )


def evicted(seen: Observed) -> model.Finding | None:
    if not (seen.evicted or seen.pressure):
        return None
    return _finding(
        model.Verdict.CAUSE,
        model.Confidence.HIGH if seen.evicted else model.Confidence.MEDIUM,
        f"{len(seen.evicted)} database pod(s) evicted"
        if seen.evicted
        else f"the database pod's node is under pressure ({_conditions(seen.pressure)})",
        evidence=(*seen.evicted[:3], *seen.pressure, *seen.usage, *seen.client),
        priority=model.Priority.NAME,
        missing=seen.missing,
        remedy=fixes.resize(
            seen.ev, seen.sigs, memory=True, cpu=False, requests_only=True, why=_WHY_EVICTED
        ),
    )


def throttled(seen: Observed) -> model.Finding | None:
    hot = seen.hot["cpu"]
    if not (hot and seen.slow):
        return None
    return _finding(
        model.Verdict.CAUSE,
        model.Confidence.MEDIUM,
        f"{_names(hot)} run at their CPU limit and PostgreSQL logs slow statements: "
        "throttling is likely",
        evidence=(*seen.usage, *seen.slow[:3], *seen.client),
        priority=model.Priority.SLOW,
        remedy=fixes.resize(seen.ev, hot, memory=False, cpu=True, why=_WHY_THROTTLED),
    )


def warning_signs(seen: Observed) -> model.Finding | None:
    hot, slow, killed = seen.hot, seen.slow, seen.killed
    if not (hot["memory"] or hot["cpu"] or slow or killed):
        return None
    what = [
        f"{len(killed)} SIGKILL(s) (exit 137) without reason OOMKilled: a liveness-probe kill "
        "or memory - see the pod's events"
        if killed
        else "",
        f"memory at >= 90% of its limit ({_names(hot['memory'])})" if hot["memory"] else "",
        f"CPU at >= 90% of its limit ({_names(hot['cpu'])})" if hot["cpu"] else "",
        f"{len(slow)} slow statement(s) >= {facts.SLOW_MS:.0f} ms" if slow else "",
    ]
    pod = seen.db_pods[0]
    return _finding(
        model.Verdict.WARNING,
        model.Confidence.MEDIUM,
        "warning signs in the database's resources: " + "; ".join(w for w in what if w),
        evidence=(*killed[:2], *seen.usage, *slow[:3]),
        missing="why the container was killed: kubectl describe pod "
        f"{objects.name(pod)} -n {objects.namespace(pod)}"
        if killed
        else "",
        remedy=fixes.resize(
            seen.ev,
            hot["memory"] or hot["cpu"] or seen.sigs,
            memory=bool(hot["memory"]),
            cpu=bool(hot["cpu"]),
            why="Usage this close to a limit ends in an OOM kill (memory) or throttling (CPU) "
            "at the next peak.",
        ),
    )


def healthy(seen: Observed) -> model.Finding:
    return _finding(
        model.Verdict.RULED_OUT,
        model.Confidence.HIGH if seen.has_metrics else model.Confidence.MEDIUM,
        f"no OOM kill, eviction or node pressure for {_names(seen.sigs)}"
        + (
            "; usage is below 90% of every limit"
            if seen.has_metrics
            else "; no metrics to compare with limits"
        ),
        evidence=(
            model.Cite(
                text=f"{seen.restarts} restart(s) in total", source=objects.ref(seen.db_pods[0])
            ),
            *seen.usage,
        ),
        missing=seen.missing,
    )


_WHY_OOM = (
    "The memory limit is enforced by the kernel's OOM killer. When it kills a "
    "PostgreSQL backend the postmaster terminates all sessions and runs crash "
    "recovery, so clients get resets and 'the database system is in recovery "
    "mode' until it is back."
)
_WHY_EVICTED = (
    "Under node pressure the kubelet evicts pods whose usage exceeds their "
    "requests first; requests that cover real usage keep the database off the "
    "eviction list and make the scheduler place it on a node with room."
)
_WHY_THROTTLED = (
    "A CPU limit is enforced by CFS throttling: at the limit every query waits "
    "for the next period, so statements slow down and clients time out."
)


def _conditions(pressure: Sequence[model.Cite]) -> str:
    """'MemoryPressure, DiskPressure' from the pressure citations."""
    return ", ".join(c.text.split(": ")[1].split("=")[0] for c in pressure)


def _names(sigs: Sequence[facts.PodSignals], keep: Any = None) -> str:
    names = sorted({objects.name(s.pod) for s in sigs if keep is None or keep(s)})
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _finding(
    verdict: model.Verdict, confidence: model.Confidence, summary: str, **kwargs: Any
) -> model.Finding:
    return model.Finding(
        verdict=verdict,
        confidence=confidence,
        summary=summary,
        **kwargs,
    )
