"""The HTML pages of `serve`: the incident list, and an incident without a report yet.

An incident whose diagnosis is done is shown with the report rendered at diagnosis time by the
`diagnose -o html` template (reports.html_report), so the page and the CLI never differ. This
module renders only what that template does not cover: the list (newest first, state, top
cause, age) and the page of an incident still diagnosing or failed. Autoescaping is on: alert
labels and errors come from outside.
"""

from __future__ import annotations

import datetime as dt

import jinja2

from paramedic.serve import records

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("paramedic.serve", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def age(record: records.Record) -> str:
    """How long ago the incident opened, coarsely (45 s, 12 min, 3 h, 2 d)."""
    seconds = max(0, int((records.now() - record.created_at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _render(**values: object) -> str:
    return _ENV.get_template("incidents.html.j2").render(
        age=age, now=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), **values
    )


def listing(records: list[records.Record]) -> str:
    pending = any(r.phase != "done" for r in records)
    return _render(
        title="Incidents", incidents=records, incident=None, refresh=10 if pending else 0
    )


def pending(record: records.Record) -> str:
    """The page of an incident that has no report: diagnosing (reloads itself) or failed."""
    return _render(
        title=f"Incident {record.id}",
        incidents=[],
        incident=record,
        refresh=0 if record.phase == "done" else 5,
    )
