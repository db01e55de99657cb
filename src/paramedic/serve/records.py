"""An incident as the store hands it back (`Record`), read from a row of schema.incidents.

The store writes timestamps in UTC and ports as text; `from_row` turns them back into aware
datetimes and numbers, and the alert/diagnosis JSON columns into documents. Listing reads rows
without the heavy columns (`light`): they come back as None.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from paramedic.serve import routes


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timestamps back without their zone: they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _port(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One incident as the store holds it."""

    id: int
    state: str
    phase: str
    source: str
    target: str
    port: int | str | None
    namespace: str | None
    fingerprint: str | None
    firing: bool
    alert: dict[str, Any] | None
    diagnosis: dict[str, Any] | None
    report: str | None
    top_cause: str | None
    error: str | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def incident(self) -> dict[str, Any]:
        return routes.Target(
            source=self.source, target=self.target, port=self.port, namespace=self.namespace
        ).as_dict()

    def as_api(self, *, with_diagnosis: bool = True) -> dict[str, Any]:
        """The incident as GET /api/v1/incidents[/ID] shows it (DESIGN.md §3)."""
        doc: dict[str, Any] = {
            "id": self.id,
            "state": self.state,
            "phase": self.phase,
            "incident": self.incident,
            "alert": self.alert,
            "top_cause": self.top_cause,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "error": self.error,
        }
        if with_diagnosis:
            doc["diagnosis"] = self.diagnosis
        return doc


def from_row(row: Any) -> Record:
    """The Record of a full row of schema.incidents."""
    return _from_mapping(row._mapping)


def light(row: Any) -> Record:
    """The Record of a listed row, read without diagnosis and report."""
    return _from_mapping({**row._mapping, "diagnosis": None, "report": None})


def _from_mapping(m: Any) -> Record:
    return Record(
        id=int(m["id"]),
        state=m["state"],
        phase=m["phase"],
        source=m["source"],
        target=m["target"],
        port=_port(m["port"]),
        namespace=m["namespace"],
        fingerprint=m["fingerprint"],
        firing=bool(m["firing"]),
        alert=json.loads(m["alert"]) if m["alert"] else None,
        diagnosis=json.loads(m["diagnosis"]) if m["diagnosis"] else None,
        report=m["report"],
        top_cause=m["top_cause"],
        error=m["error"],
        attempts=int(m["attempts"]),
        created_at=_utc(m["created_at"]) or now(),
        updated_at=_utc(m["updated_at"]) or now(),
    )
