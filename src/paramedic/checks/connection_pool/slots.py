"""The connection arithmetic of `connection-pool`: every client's pool times its pods at peak
against the server's usable slots, shown as evidence; and what a postgres probe attributes the
open connections to."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import model
from paramedic.checks.connection_pool import facts
from paramedic.kube import objects


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Arithmetic:
    steady: int | None
    peak: int | None
    cites: tuple[model.Cite, ...]


def arithmetic(
    limits: facts.ServerLimits | None, clients: Sequence[facts.ClientDemand]
) -> Arithmetic:
    cites: list[model.Cite] = []
    if limits is not None:
        cites.append(
            model.Cite(
                text=f"max_connections {limits.max_connections.value} "
                f"({limits.max_connections.source}) − "
                f"superuser_reserved {limits.superuser_reserved.value} "
                f"({limits.superuser_reserved.source}) − "
                f"reserved {limits.reserved.value} = {limits.usable} usable slots",
                source=objects.ref(limits.workload) if limits.workload else "",
            )
        )
    steady = peak = 0
    known = False
    for c in clients:
        if c.pool is None:
            cites.append(
                model.Cite(
                    text="pool size not set in env (not counted)", source=objects.ref(c.workload)
                )
            )
            continue
        known = True
        steady += c.steady or 0
        peak += c.peak or 0
        extra = (
            f"; {c.peak_pods} pods at peak ({c.peak_reason}) = {c.peak}"
            if c.peak_pods != c.replicas
            else ""
        )
        cites.append(
            model.Cite(
                text=f"{c.replicas} replicas × {c.pool} ({c.pool_source}) = {c.steady}{extra}",
                source=objects.ref(c.workload),
            )
        )
    if known and len([c for c in clients if c.pool is not None]) > 1:
        cites.append(model.Cite(text=f"all clients: {steady} steady, {peak} at peak"))
    return Arithmetic(
        steady=steady if known else None, peak=peak if known else None, cites=tuple(cites)
    )


def attribution(data: Mapping[str, Any], saturation: float | None) -> list[model.Cite]:
    cites = []
    if saturation is not None:
        cites.append(
            model.Cite(
                text=f"{data.get('in_use', '?')} client connections of "
                f"{data.get('usable_slots', '?')} usable "
                f"= {saturation:.0%} ({data.get('formula') or 'in use / usable slots'})",
                source="probe postgres",
            )
        )
    for key, label in (
        ("by_application", "by application"),
        ("by_state", "by state"),
        ("by_user", "by user"),
        ("by_client", "by client"),
    ):
        groups = data.get(key)
        if isinstance(groups, dict) and groups:
            top = sorted(groups.items(), key=lambda kv: -objects.as_int(kv[1]))[:4]
            cites.append(
                model.Cite(
                    text=f"{label}: " + ", ".join(f"{k or '(none)'} {v}" for k, v in top),
                    source="probe postgres",
                )
            )
    idle = [s for s in objects.as_list(data.get("idle_in_transaction")) if isinstance(s, dict)]
    if idle:
        users = sorted({str(s.get("user")) for s in idle})
        by_state = objects.as_dict(data.get("by_state"))
        n = by_state.get("idle in transaction", len(idle))
        longest = max(objects.as_int(s.get("seconds")) for s in idle)
        cites.append(
            model.Cite(
                text=f"{n} sessions idle in transaction (users {', '.join(users)}), longest "
                f"{data.get('longest_idle_in_transaction_s', longest)} s",
                source="probe postgres",
            )
        )
    return cites
