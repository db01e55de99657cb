"""Alerts into incidents, inside a transaction the caller holds: open one per firing alert, close it
when the alert resolves.

While an alert fires there is at most one incident under its fingerprint: the partial unique
index of schema.incidents says so, and `add` inserts with ON CONFLICT DO NOTHING on it, so a
duplicate (from this request, an earlier one in the same transaction, or another replica
sharing a PostgreSQL store) never raises and never aborts the transaction: it is answered with
the incident already firing. `resolve` closes in one UPDATE ... RETURNING. Both run on the
connection they are given, so the webhook's writer can store many requests in one commit
(intake.py) and `Store.add`/`Store.resolve` one each.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from paramedic.serve import records, schema

_T = schema.incidents
_ATTEMPTS = 3
"""Insert-or-find rounds: a round only repeats when the firing row it collided with was resolved
by another replica in between."""


@functools.cache
def _insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (fingerprint) WHERE firing DO NOTHING RETURNING id."""
    module = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(_T)
        .on_conflict_do_nothing(index_elements=[_T.c.fingerprint], index_where=sa.text("firing"))
        .returning(_T.c.id)
    )


_FIRING = sa.select(_T.c.id).where(_T.c.fingerprint == sa.bindparam("fingerprint"), _T.c.firing)


def find(conn: sa.Connection, fingerprint: str) -> int | None:
    """The incident firing under `fingerprint`, if any."""
    found = conn.execute(_FIRING, {"fingerprint": fingerprint}).scalar()
    return int(found) if found is not None else None


def add(
    conn: sa.Connection,
    incident: dict[str, Any],
    *,
    alert: dict[str, Any] | None = None,
    fingerprint: str | None = None,
) -> tuple[int, bool]:
    """Store a new incident (phase queued); with a fingerprint, the one already firing under
    it is returned instead. Returns (id, created)."""
    stamp = records.now()
    values = {
        "state": schema.OPEN,
        "phase": schema.QUEUED,
        "source": incident["from"],
        "target": incident["to"],
        "port": None if incident.get("port") is None else str(incident["port"]),
        "namespace": incident.get("namespace"),
        "fingerprint": fingerprint,
        "firing": fingerprint is not None,
        "alert": json.dumps(alert) if alert is not None else None,
        "attempts": 0,
        "created_at": stamp,
        "updated_at": stamp,
    }
    insert = _insert(conn.dialect.name)
    for _ in range(_ATTEMPTS):
        new_id = conn.execute(insert, values).scalar()
        if new_id is not None:
            return int(new_id), True
        assert fingerprint is not None  # only the firing-fingerprint index can refuse a row
        existing = find(conn, fingerprint)
        if existing is not None:
            return existing, False
    raise sa_exc.InvalidRequestError(f"alert {fingerprint}: fired and resolved concurrently")


def resolve(conn: sa.Connection, fingerprint: str) -> int | None:
    """The alert stopped firing: close its incident (a failed one stays failed), keep the
    diagnosis. Returns the incident's id, or None when none fires under `fingerprint`."""
    state = sa.case((_T.c.state == schema.FAILED, schema.FAILED), else_=schema.CLOSED)
    found = conn.execute(
        sa.update(_T)
        .where(_T.c.fingerprint == fingerprint, _T.c.firing)
        .values(firing=False, state=state, updated_at=records.now())
        .returning(_T.c.id)
    ).scalar()
    return int(found) if found is not None else None
