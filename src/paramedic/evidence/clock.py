"""When the evidence was taken: the newest time stamp it carries, for the report's provenance.

A report must say how old its evidence is. Live evidence knows (the gatherer stamps it); a
bundle carries the times of its objects (events, conditions, container states) and of its log
lines, and the newest of those is the best statement of "as of" a bundle can make. Only when a
bundle holds no time at all does the file's modification time stand in.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]00:?00| UTC)?")
"""An ISO 8601 UTC time at the start of a value or log line (the API and most loggers write Z)."""
_MAX_SCAN = 64
"""Characters of a log line searched for its time stamp (loggers put it first)."""


def now() -> str:
    """The current time, as the reports print it."""
    return stamp(datetime.datetime.now(datetime.UTC))


def stamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_mtime(seconds: float) -> str:
    return stamp(datetime.datetime.fromtimestamp(seconds, datetime.UTC))


def newest(objects: Iterable[Mapping[str, Any]], logs: Mapping[Any, tuple[str, ...]]) -> str:
    """The newest UTC time stamp in the objects' well-known time fields and the logs' last
    lines, as "YYYY-MM-DDTHH:MM:SSZ"; "" when there is none."""
    best = ""
    for obj in objects:
        for value in _times(obj):
            best = max(best, _normal(value))
    for lines in logs.values():
        for line in reversed(lines[-5:]):  # the newest line that carries a stamp
            found = _normal(line[:_MAX_SCAN])
            if found:
                best = max(best, found)
                break
    return best


def _normal(value: Any) -> str:
    match = _STAMP.search(value) if isinstance(value, str) else None
    if match is None or (match.group(3) is None and "T" not in match.group(0)):
        return ""
    return f"{match.group(1)}T{match.group(2)}Z"


def _times(obj: Mapping[str, Any]) -> Iterable[Any]:
    meta = obj.get("metadata")
    if isinstance(meta, Mapping):
        yield meta.get("creationTimestamp")
    for key in ("lastTimestamp", "firstTimestamp", "eventTime"):
        yield obj.get(key)
    series = obj.get("series")
    if isinstance(series, Mapping):
        yield series.get("lastObservedTime")
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return
    yield status.get("startTime")
    for condition in _list(status.get("conditions")):
        yield condition.get("lastTransitionTime")
    for key in ("containerStatuses", "initContainerStatuses"):
        for container in _list(status.get(key)):
            for state_key in ("state", "lastState"):
                state = container.get(state_key)
                for detail in state.values() if isinstance(state, Mapping) else ():
                    if isinstance(detail, Mapping):
                        yield detail.get("startedAt")
                        yield detail.get("finishedAt")


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
