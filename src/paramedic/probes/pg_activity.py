"""What a connected PostgreSQL probe reads: connection limits and who holds the slots.

Counts only `backend_type = 'client backend'` (since PG 10 pg_stat_activity also lists
background workers, which do not take max_connections slots; walsenders stopped counting in
PG 12) and leaves out the probe's own connection. A role without superuser or
pg_read_all_stats sees other roles' sessions with backend_type, state, client and timings
hidden (NULL): a row with a user and a database but no backend_type is counted as a client
backend, under state and client "(hidden)", and `stats_visible` is false.

The formula is stated in the result (`formula`), since monitoring tools disagree: check_postgres
and Datadog divide by max_connections; check_pgactivity and postgres_exporter subtract the
superuser reserve; paramedic also subtracts PG 16's reserved_connections (FAILURE-FACTS §1).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg

IDLE_IN_TRANSACTION_LISTED = 20
"""At most this many idle-in-transaction sessions are listed (longest first)."""

_SETTINGS = """
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections,
       coalesce(current_setting('reserved_connections', true), '0')::int AS reserved_connections,
       current_user AS role, current_database() AS db,
       r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS stats_visible,
       r.rolconnlimit AS role_connection_limit,
       (SELECT datconnlimit FROM pg_database WHERE datname = current_database())
           AS database_connection_limit
FROM pg_roles r WHERE r.rolname = current_user
"""

_ACTIVITY = """
SELECT coalesce(state, '(hidden)') AS state,
       coalesce(usename, '(none)') AS usename,
       coalesce(nullif(application_name, ''), '(unset)') AS application,
       CASE WHEN client_port = -1 THEN 'local socket'
            WHEN client_addr IS NULL THEN '(hidden)'
            ELSE host(client_addr) END AS client,
       coalesce(datname, '(none)') AS datname,
       pid,
       extract(epoch FROM clock_timestamp() - state_change)::float8 AS state_seconds
FROM pg_stat_activity
WHERE pid <> pg_backend_pid()
  AND (backend_type = 'client backend'
       -- another role's session, seen without privileges: only user and database show
       OR (backend_type IS NULL AND usename IS NOT NULL AND datname IS NOT NULL))
"""


def read(conn: psycopg.Connection[Any], *, statement_timeout_ms: int) -> dict[str, Any]:
    """The `data` fields of a successful postgres probe (see docs/PROBES.md).

    The limit is set inside one transaction (`set_config(..., is_local => true)`), not as a
    startup option, because PgBouncer rejects unknown startup parameters such as `options`.
    """
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "SELECT set_config('statement_timeout', %s, true)", (str(statement_timeout_ms),)
        )
        cur.execute(_SETTINGS)
        names = [d.name for d in cur.description or ()]
        row = cur.fetchone()
        settings = dict(zip(names, row, strict=True)) if row else {}
        cur.execute(_ACTIVITY)
        names = [d.name for d in cur.description or ()]
        sessions = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return summarize(settings, sessions)


def summarize(settings: dict[str, Any], sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Limits, usage by state/user/application/client and saturation, from the raw rows."""
    max_connections = int(settings.get("max_connections") or 0)
    superuser_reserved = int(settings.get("superuser_reserved_connections") or 0)
    reserved = int(settings.get("reserved_connections") or 0)
    usable = max_connections - superuser_reserved - reserved
    in_use = len(sessions)
    idle_tx = sorted(
        (
            {
                "pid": s["pid"],
                "user": s["usename"],
                "application": s["application"],
                "client": s["client"],
                "seconds": round(float(s["state_seconds"] or 0.0), 1),
            }
            for s in sessions
            if str(s["state"]).startswith("idle in transaction")
        ),
        key=lambda item: -item["seconds"],
    )
    return {
        "server_version": str(settings.get("server_version", "")),
        "server_version_num": int(settings.get("server_version_num") or 0),
        "max_connections": max_connections,
        "superuser_reserved_connections": superuser_reserved,
        "reserved_connections": reserved,
        "usable_slots": usable,
        "in_use": in_use,
        "free_slots": usable - in_use,
        "saturation": round(in_use / usable, 4) if usable > 0 else None,
        "formula": (
            "saturation = in_use / usable_slots; usable_slots = max_connections"
            " - superuser_reserved_connections - reserved_connections"
            f" = {max_connections} - {superuser_reserved} - {reserved} = {usable};"
            " in_use = client backends in pg_stat_activity, the probe's own connection excluded"
        ),
        "by_state": _count(sessions, "state"),
        "by_user": _count(sessions, "usename"),
        "by_application": _count(sessions, "application"),
        "by_client": _count(sessions, "client"),
        "by_database": _count(sessions, "datname"),
        "idle_in_transaction": idle_tx[:IDLE_IN_TRANSACTION_LISTED],
        "idle_in_transaction_count": len(idle_tx),
        "longest_idle_in_transaction_s": idle_tx[0]["seconds"] if idle_tx else 0.0,
        "stats_visible": bool(settings.get("stats_visible")),
        "hidden": sum(1 for s in sessions if s["state"] == "(hidden)"),
        "role_connection_limit": settings.get("role_connection_limit"),
        "database_connection_limit": settings.get("database_connection_limit"),
    }


def summary(data: dict[str, Any]) -> str:
    """One line for `detail`: version, slots in use, idle-in-transaction."""
    saturation = data.get("saturation")
    percent = f" ({saturation * 100:.0f}%)" if isinstance(saturation, float | int) else ""
    line = (
        f"PostgreSQL {data.get('server_version', '?')}: {data.get('in_use')} of "
        f"{data.get('usable_slots')} usable slots in use{percent}"
    )
    if data.get("idle_in_transaction_count"):
        line += (
            f", {data['idle_in_transaction_count']} idle in transaction (longest "
            f"{data['longest_idle_in_transaction_s']:.1f} s)"
        )
    return line


def _count(sessions: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts = Counter(str(s[key]) for s in sessions)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
