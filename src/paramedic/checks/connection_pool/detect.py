"""Check `connection-pool`: has PostgreSQL run out of connection slots, and who holds them?

Evidence, strongest first: a recorded postgres probe (outcome too-many-connections, or its
pg_stat_activity saturation and attribution), SQLSTATE 53300 lines in client or server logs,
and the arithmetic from the objects (pg_limits). Saturation is stated with its formula:
client backends / (max_connections − superuser_reserved_connections − reserved_connections),
as the postgres_exporter mixin computes it (check_postgres and Datadog divide by max_connections).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model, pg_fixes, pg_limits, registry
from paramedic.kube import objects

FORMULA = "in use / (max_connections - superuser_reserved_connections - reserved_connections)"
_EXHAUSTED = ("too-many-connections", "pooler-full")
_OBJECT_LIMIT = re.compile(r'too many connections for (role|database) "([^"]+)"', re.IGNORECASE)


@registry.check(
    "connection-pool",
    title="PostgreSQL has free connection slots",
    needs=(
        "Deployment",
        "StatefulSet",
        "HorizontalPodAutoscaler",
        "ConfigMap",
        "logs",
        "probes:postgres",
    ),
)
def run(ctx: model.Context) -> model.Finding:
    ev, scope = ctx.evidence, ctx.scope
    client, server = clues.log_clues(ev, scope.source_pods), clues.log_clues(ev, scope.target_pods)
    found = client + server
    exhausted = clues.first_per_pod(client, _EXHAUSTED, limit=2) + clues.first_per_pod(
        server, _EXHAUSTED, 1
    )
    limits = pg_limits.server_limits(ev, scope.target_pods)
    object_limits = sorted(
        {
            (m.group(1).upper(), m.group(2))
            for c in found
            if (m := _OBJECT_LIMIT.search(c.line)) is not None
        }
    )
    clients = [pg_limits.demand(ev, w) for w in _clients(ctx)]
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
        evidence += pg_fixes.attribution(probe_ok.data, saturation)
    arithmetic = pg_fixes.arithmetic(limits, clients)
    over = arithmetic.peak is not None and limits is not None and arithmetic.peak > limits.usable
    now_over = (
        arithmetic.steady is not None and limits is not None and arithmetic.steady > limits.usable
    )
    evidence += arithmetic.cites
    details = {
        "formula": FORMULA,
        "usable_slots": limits.usable if limits else None,
        "demand_steady": arithmetic.steady,
        "demand_peak": arithmetic.peak,
        "saturation": saturation,
    }
    cause = exhausted or probe_full is not None or (saturation is not None and saturation >= 0.95)
    if cause or over or (saturation is not None and saturation >= 0.8):
        return model.Finding(
            check="connection-pool",
            verdict=model.Verdict.CAUSE if cause else model.Verdict.WARNING,
            confidence=model.Confidence.HIGH if cause else model.Confidence.MEDIUM,
            summary=_cause_summary(limits, arithmetic, saturation, object_limits)
            if cause
            else _warning_summary(limits, arithmetic, saturation, now_over=now_over),
            evidence=tuple(evidence),
            fix=pg_fixes.fix(
                scope, limits, clients, arithmetic, probe_ok.data if probe_ok else {}, object_limits
            ),
            why=pg_fixes.WHY,
            verify=pg_fixes.verify(scope, limits),
            priority=40,
            details=details,
        )
    has_logs = clues.has_logs(ev, scope.target_pods)
    client_logs = clues.has_logs(ev, scope.source_pods)
    if (
        probe_ok is None
        and not has_logs
        and (arithmetic.peak is None or limits is None)
        and not client_logs
    ):
        return model.Finding(
            check="connection-pool",
            verdict=model.Verdict.INCONCLUSIVE,
            confidence=model.Confidence.LOW,
            summary="no DB log, no postgres probe and no pool sizes to count connections with",
            evidence=tuple(evidence),
            missing="connection counts from the server: " + pg_fixes.usage_command(scope),
            details=details,
        )
    fits = arithmetic.peak is not None and limits is not None
    return model.Finding(
        check="connection-pool",
        verdict=model.Verdict.RULED_OUT,
        confidence=model.Confidence.HIGH
        if probe_ok is not None
        else model.Confidence.MEDIUM
        if fits or has_logs
        else model.Confidence.LOW,
        summary=(
            "no SQLSTATE 53300 and the pools fit: "
            + f"{arithmetic.peak} at peak ≤ {limits.usable} usable slots"
            if fits and limits
            else "no SQLSTATE 53300 in the logs"
            + ("" if limits else " (the server's limits are not in the evidence)")
        )
        + ("" if has_logs or probe_ok is not None else " (no logs or probe in the evidence)"),
        evidence=tuple(evidence),
        verify=pg_fixes.usage_command(scope),
        details=details,
    )


def _clients(ctx: model.Context) -> list[Mapping[str, Any]]:
    scope = ctx.scope
    found = list(pg_limits.clients_of(ctx.evidence, scope.target_service, scope.target_host))
    source = scope.source_template()
    if source is not None and not any(_same(source, w) for w in found):
        found.insert(0, source)
    found.sort(key=lambda w: not _same(w, source) if source is not None else False)
    return found


def _same(a: Mapping[str, Any], b: Mapping[str, Any] | None) -> bool:
    return b is not None and objects.ref(a) == objects.ref(b)


def _saturation(data: Mapping[str, Any], limits: pg_limits.ServerLimits | None) -> float | None:
    if isinstance(data.get("saturation"), int | float):
        return float(data["saturation"])
    in_use, usable = data.get("in_use"), data.get("usable_slots")
    if usable is None and limits is not None:
        usable = limits.usable
    if isinstance(in_use, int) and isinstance(usable, int) and usable > 0:
        return in_use / usable
    return None


def _cause_summary(
    limits: pg_limits.ServerLimits | None,
    arithmetic: pg_fixes.Arithmetic,
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
    limits: pg_limits.ServerLimits | None,
    arithmetic: pg_fixes.Arithmetic,
    saturation: float | None,
    *,
    now_over: bool,
) -> str:
    if limits is not None and arithmetic.peak is not None and arithmetic.peak > limits.usable:
        return (
            f"pools may open {arithmetic.peak} connections but only {limits.usable} slots are "
            "usable" + (" (already over at steady state)" if now_over else " (at the next rollout)")
        )
    return f"connection slots {saturation:.0%} used ({FORMULA})"


__all__: Sequence[str] = ("run",)
