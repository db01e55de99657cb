"""Phase timestamps of each webhook request, for finding where its latency goes (a debug aid).

Off, and free, unless `PARAMEDIC_SERVE_TRACE` names a file when the server starts: then the
webhook stamps each request's phases (`time.monotonic()`, the clock another process on the
machine reads too) — handler entered, body read, payload validated, job queued for the group
commit, batch taken by the writer, committed, handed back to the event loop, handler resumed,
answered — and the server records what competes with them: garbage collections, the worker
pool's store writes (claim, finish) and its worker processes' results arriving. At shutdown
everything is written to that file as JSON lines (`benchmarks/serve_bench.py --trace` reads
it). Nothing of this reaches the logs; a trace holds times, phases and the request's
`X-Paramedic-Trace` header value, never a body.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from typing import Any

ENV = "PARAMEDIC_SERVE_TRACE"
HEADER = "x-paramedic-trace"
"""The client's id of a request, echoed in its trace so the client can join its own times."""

_path = os.environ.get(ENV) or None
_events: list[dict[str, Any]] = []
_gc_started: list[float] = [0.0]

enabled = _path is not None


def request(header: str | None) -> dict[str, Any] | None:
    """A new request's trace (None when tracing is off); its phases are stamped with `mark`."""
    if not enabled:
        return None
    doc: dict[str, Any] = {"kind": "request", "id": header, "thread": threading.get_ident()}
    _events.append(doc)
    return doc


def mark(doc: dict[str, Any] | None, phase: str) -> None:
    if doc is not None:
        doc[phase] = time.monotonic()


def span(kind: str, started: float, **fields: Any) -> None:
    """Something that ran from `started` until now (a store write, a result's arrival)."""
    if enabled:
        _events.append({"kind": kind, "start": started, "end": time.monotonic(), **fields})


def _gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[0] = time.monotonic()
    else:
        span("gc", _gc_started[0], generation=info.get("generation"))


def start() -> None:
    """Begin recording what competes with the requests (garbage collections)."""
    if enabled and _gc not in gc.callbacks:
        gc.callbacks.append(_gc)


def dump() -> None:
    """Write every event to the trace file (at shutdown)."""
    if _path is None:
        return
    with open(_path, "w", encoding="utf-8") as out:
        for event in list(_events):
            out.write(json.dumps(event) + "\n")
