"""Notifications: when a diagnosis completes, POST a short summary and the incident's link.

`--notify URL` with `--notify-format slack` sends `{"text": "..."}` (a Slack-compatible
incoming webhook; Mattermost and Rocket.Chat take the same), `generic` sends the incident as
JSON. One attempt with a finite timeout; a failure is logged, never raised.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from paramedic.serve import records

FORMATS = ("slack", "generic")


def summary(record: records.Record, link: str) -> str:
    what = f"{record.source} -> {record.target}"
    if record.error:
        found = f"no diagnosis: {record.error}"
    else:
        found = record.top_cause or "no cause found"
    return f"paramedic: incident {record.id} ({what}): {found} {link}".strip()


def payload(record: records.Record, link: str, kind: str) -> dict[str, Any]:
    if kind == "slack":
        return {"text": summary(record, link)}
    return {
        "id": record.id,
        "state": record.state,
        "incident": record.incident,
        "top_cause": record.top_cause,
        "error": record.error,
        "url": link,
        "summary": summary(record, link),
    }


def send(url: str, body: dict[str, Any], *, timeout: float = 5.0) -> str:
    """POST `body` as JSON; '' on a 2xx answer, else one line saying what went wrong."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "paramedic-serve"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read(65536)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))
    return ""
