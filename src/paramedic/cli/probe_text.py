"""The terminal rendering of one probe result (`paramedic probe ... -o text`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.evidence import probes_file


def render(result: probes_file.ProbeResult) -> str:
    """A headline (kind, target, outcome, time), the detail, then the kind's key facts."""
    lines = [f"{result.kind} {result.target}: {result.outcome} ({result.elapsed_ms:.1f} ms)"]
    if result.detail:
        lines.append(f"  {result.detail}")
    data = result.data
    if result.kind == "tcp":
        lines += _facts(data, ("address", "errno", "closed_by", "gai_error"))
    elif result.kind == "dns":
        lines += _facts(data, ("addresses", "ttl", "rcode", "cnames", "answered_name"))
        if len(data.get("tried") or ()) > 1:
            lines.append("  tried:")
            lines += [
                f"    {name}  {data.get('rcodes', {}).get(name, '')}" for name in data["tried"]
            ]
    elif result.kind == "postgres":
        lines += _postgres(data)
    return "\n".join(lines) + "\n"


def _facts(data: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    out = []
    for key in keys:
        value = data.get(key)
        if value in (None, "", [], {}):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        out.append(f"  {key}: {shown}")
    return out


def _postgres(data: Mapping[str, Any]) -> list[str]:
    out = _facts(
        data, ("user", "database", "address", "password_from", "sqlstate", "limit", "errno")
    )
    if "max_connections" not in data:
        return out
    out.append(
        f"  slots: max_connections {data['max_connections']} - superuser_reserved "
        f"{data['superuser_reserved_connections']} - reserved {data['reserved_connections']}"
        f" = {data['usable_slots']} usable; {data['in_use']} in use"
    )
    if data.get("saturation") is not None:
        out.append(f"  saturation: {data['saturation'] * 100:.0f}% (in_use / usable_slots)")
    for key in ("by_state", "by_user", "by_application", "by_client"):
        counts = data.get(key) or {}
        if counts:
            out.append(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if not data.get("stats_visible") and data.get("hidden"):
        out.append(
            f"  {data['hidden']} session(s) of other roles hidden: grant pg_read_all_stats"
            " to see their state and client"
        )
    for item in data.get("idle_in_transaction") or ():
        out.append(
            f"  idle in transaction {item['seconds']:.1f} s: pid {item['pid']} "
            f"{item['user']} {item['application']} from {item['client']}"
        )
    return out
