"""Detectors of `connection-pool`: what the evidence says about connection slots (`observe`),
and the finding it leads to (`overload`, else `undecided`, else `fits`).

Evidence, strongest first: a recorded postgres probe (outcome too-many-connections, or its
pg_stat_activity saturation and attribution), SQLSTATE 53300 lines in client or server logs,
and the arithmetic from the objects (pg_limits). Saturation is stated with its formula:
client backends / (max_connections − superuser_reserved_connections − reserved_connections),
as the postgres_exporter mixin computes it (check_postgres and Datadog divide by max_connections).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.connection_pool import facts, fixes, slots
from paramedic.evidence import logscan
from paramedic.kube import objects, resolve

FORMULA = "in use / (max_connections - superuser_reserved_connections - reserved_connections)"
_EXHAUSTED = ("too-many-connections", "pooler-full")
_OBJECT_LIMIT = logscan.compile(
    r'too many connections for (role|database) "([^"]+)"', ignore_case=True
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """What the evidence says about connection slots, before any verdict."""

    limits: facts.ServerLimits | None
    clients: list[facts.ClientDemand]
    arithmetic: slots.Arithmetic
    evidence: tuple[model.Cite, ...]
    exhausted: bool
    """SQLSTATE 53300 seen, or a probe refused for too many connections."""
    saturation: float | None
    probe_data: Mapping[str, Any]
    object_limits: list[tuple[str, str]]
    details: dict[str, Any]
    has_logs: bool
    client_logs: bool

    @property
    def over_at_peak(self) -> bool:
        peak, limits = self.arithmetic.peak, self.limits
        return peak is not None and limits is not None and peak > limits.usable

    @property
    def over_now(self) -> bool:
        steady, limits = self.arithmetic.steady, self.limits
        return steady is not None and limits is not None and steady > limits.usable


def observe(ctx: model.Context) -> Observed:
    ev, scope = ctx.evidence, ctx.scope
    client, server = clues.log_clues(ev, scope.source_pods), clues.log_clues(ev, scope.target_pods)
    found = client + server
    exhausted = clues.first_per_pod(client, _EXHAUSTED, limit=2) + clues.first_per_pod(
        server, _EXHAUSTED, 1
    )
    limits = facts.server_limits(ev, scope.target_pods)
    object_limits = sorted(
        {
            (m.group(1).upper(), m.group(2))
            for c in found
            if (m := _OBJECT_LIMIT.search(c.line)) is not None
        }
    )
    spaces = {ctx.scope.namespace, ctx.scope.target_namespace or ctx.scope.namespace}
    clients = [facts.demand(ev, w, spaces) for w in _clients(ctx, spaces)]
    probes = ev.probes_of("postgres")
    probe_full = next((p for p in probes if p.outcome == "too-many-connections"), None)
    probe_ok = next((p for p in probes if p.outcome == "ok" and p.data), None)
    evidence: list[model.Cite] = [c.cite() for c in exhausted]
    total_53300 = clues.count(found, ("too-many-connections",))
    if total_53300 > len(exhausted):
        evidence.append(model.Cite(text=f"{total_53300} lines with SQLSTATE 53300 in the logs"))
    if probe_full is not None:
        evidence.append(
            model.Cite(
                text=f"probe postgres {probe_full.target}: "
                f"{probe_full.detail or 'too many connections'}",
                source="probe postgres",
            )
        )
    saturation = None
    if probe_ok is not None:
        saturation = _saturation(probe_ok.data, limits)
        evidence += slots.attribution(probe_ok.data, saturation)
    arithmetic = slots.arithmetic(limits, clients)
    evidence += arithmetic.cites
    return Observed(
        limits=limits,
        clients=clients,
        arithmetic=arithmetic,
        evidence=tuple(evidence),
        exhausted=bool(exhausted) or probe_full is not None,
        saturation=saturation,
        probe_data=probe_ok.data if probe_ok is not None else {},
        object_limits=object_limits,
        details={
            "formula": FORMULA,
            "usable_slots": limits.usable if limits else None,
            "demand_steady": arithmetic.steady,
            "demand_peak": arithmetic.peak,
            "saturation": saturation,
        },
        has_logs=clues.has_logs(ev, scope.target_pods),
        client_logs=clues.has_logs(ev, scope.source_pods),
    )


def overload(scope: resolve.Scope, seen: Observed) -> model.Finding | None:
    """Out of slots now, or pools that already open more than the server has at steady state
    (replicas x pool > usable slots): a cause. Pools that can open more only at peak (HPA
    maximum, rollout surge) or slots >= 80% used: a warning."""
    saturation = seen.saturation
    full = seen.exhausted or (saturation is not None and saturation >= 0.95)
    cause = full or seen.over_now
    if not (cause or seen.over_at_peak or (saturation is not None and saturation >= 0.8)):
        return None
    if full:
        summary = _cause_summary(seen.limits, seen.arithmetic, saturation, seen.object_limits)
    elif seen.over_now and seen.limits is not None:
        summary = (
            f"the pools already open up to {seen.arithmetic.steady} connections at steady state "
            f"(at peak {seen.arithmetic.peak}), but only {seen.limits.usable} slots are usable"
        )
    else:
        summary = _warning_summary(seen.limits, seen.arithmetic, saturation)
    return model.Finding(
        verdict=model.Verdict.CAUSE if cause else model.Verdict.WARNING,
        confidence=model.Confidence.HIGH if full else model.Confidence.MEDIUM,
        summary=summary,
        evidence=seen.evidence,
        fix=fixes.fix(
            scope, seen.limits, seen.clients, seen.arithmetic, seen.probe_data, seen.object_limits
        ),
        why=fixes.WHY,
        verify=fixes.verify(scope, seen.limits),
        priority=model.Priority.CAPACITY,
        details=seen.details,
    )


def undecided(scope: resolve.Scope, seen: Observed) -> model.Finding | None:
    """Nothing to count connections with: no probe, no log and no pool arithmetic."""
    if (
        seen.probe_data
        or seen.has_logs
        or (seen.arithmetic.peak is not None and seen.limits is not None)
        or seen.client_logs
    ):
        return None
    return model.Finding(
        verdict=model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.LOW,
        summary="no DB log, no postgres probe and no pool sizes to count connections with",
        evidence=seen.evidence,
        missing="connection counts from the server: " + fixes.usage_command(scope),
        details=seen.details,
    )


def fits(scope: resolve.Scope, seen: Observed) -> model.Finding:
    """No sign of exhaustion, and the pools fit when their sizes are known."""
    limits, peak, probed = seen.limits, seen.arithmetic.peak, bool(seen.probe_data)
    counted = peak is not None and limits is not None
    return model.Finding(
        verdict=model.Verdict.RULED_OUT,
        confidence=model.Confidence.HIGH
        if probed
        else model.Confidence.MEDIUM
        if counted or seen.has_logs
        else model.Confidence.LOW,
        summary=(
            f"no SQLSTATE 53300 and the pools fit: {peak} at peak ≤ {limits.usable} usable slots"
            if counted and limits
            else "no SQLSTATE 53300 in the logs"
            + ("" if limits else " (the server's limits are not in the evidence)")
        )
        + ("" if seen.has_logs or probed else " (no logs or probe in the evidence)"),
        evidence=seen.evidence,
        verify=fixes.usage_command(scope),
        details=seen.details,
    )


def _clients(ctx: model.Context, spaces: set[str]) -> list[Mapping[str, Any]]:
    scope = ctx.scope
    found = list(facts.clients_of(ctx.evidence, scope.target_service, scope.target_host, spaces))
    source = scope.source_template()
    if source is not None and not any(_same(source, w) for w in found):
        found.insert(0, source)
    found.sort(key=lambda w: not _same(w, source) if source is not None else False)
    return found


def _same(a: Mapping[str, Any], b: Mapping[str, Any] | None) -> bool:
    return b is not None and objects.ref(a) == objects.ref(b)


def _saturation(data: Mapping[str, Any], limits: facts.ServerLimits | None) -> float | None:
    if isinstance(data.get("saturation"), int | float):
        return float(data["saturation"])
    in_use, usable = data.get("in_use"), data.get("usable_slots")
    if usable is None and limits is not None:
        usable = limits.usable
    if isinstance(in_use, int) and isinstance(usable, int) and usable > 0:
        return in_use / usable
    return None


def _cause_summary(
    limits: facts.ServerLimits | None,
    arithmetic: slots.Arithmetic,
    saturation: float | None,
    object_limits: Sequence[tuple[str, str]] = (),
) -> str:
    if object_limits:
        kind, name = object_limits[0]
        return f'{kind.lower()} "{name}" reached its CONNECTION LIMIT (SQLSTATE 53300)'
    head = "PostgreSQL is out of connection slots (SQLSTATE 53300)"
    if limits is not None and arithmetic.peak is not None and arithmetic.peak > limits.usable:
        return f"{head}: pools may open {arithmetic.peak}, {limits.usable} slots are usable"
    if saturation is not None:
        return f"{head}: {saturation:.0%} of usable slots in use"
    return head


def _warning_summary(
    limits: facts.ServerLimits | None, arithmetic: slots.Arithmetic, saturation: float | None
) -> str:
    if limits is not None and arithmetic.peak is not None and arithmetic.peak > limits.usable:
        return (
            f"pools may open {arithmetic.peak} connections but only {limits.usable} slots are "
            "usable (at the next rollout)"
        )
    return f"connection slots {saturation:.0%} used ({FORMULA})"
