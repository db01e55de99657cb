"""Where a webhook request's time goes: the server's phase trace joined with the client's times.

`serve_bench.py --trace` starts `paramedic serve` with PARAMEDIC_SERVE_TRACE (serve/trace.py)
and tags each post with the trace header; this module reads the trace file the server wrote at
shutdown, joins each request's phases with the client's send and receive times (both
time.monotonic(), one clock for every process on the machine) and says, per phase, the
median, p99 and maximum over the burst, and for the slowest requests each phase and what
else the server was doing meanwhile (garbage collections, the pool's store writes).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

PHASES = (
    ("to handler", "sent", "entered"),  # loopback, event loop turn, HTTP parsing, routing
    ("read body", "entered", "read"),
    ("validate", "read", "parsed"),  # JSON + pydantic + routes
    ("reserve", "parsed", "queued"),
    ("wait writer", "queued", "taken"),  # the writer thread is busy with the previous batch
    ("commit", "taken", "committed"),  # the batch's transaction
    ("hand back", "committed", "handed"),  # queue diagnoses, wake the loop
    ("loop wake", "handed", "resumed"),  # until the event loop runs the handler again
    ("respond", "resumed", "answered"),  # log line, JSON answer
    ("send", "answered", "received"),  # uvicorn writes it, the client reads it
)
COMPETING = ("gc", "claim", "store-result", "sweep")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def analyse(path: Path, client: dict[str, tuple[float, float]], slowest: int = 5) -> dict[str, Any]:
    """`client`: tag -> (sent, received). Phases in ms: p50/p99/max, and the slowest requests."""
    events = [json.loads(line) for line in path.read_text().splitlines() if line]
    requests = []
    for event in events:
        if event["kind"] != "request" or event.get("id") not in client:
            continue
        sent, received = client[event["id"]]
        requests.append({**event, "sent": sent, "received": received})
    others = [e for e in events if e["kind"] in COMPETING]

    def phases(req: dict[str, Any]) -> dict[str, float]:
        return {
            name: round((req[end] - req[start]) * 1000, 2)
            for name, start, end in PHASES
            if start in req and end in req
        }

    table = {}
    for name, _, _ in PHASES:
        values = [p[name] for p in map(phases, requests) if name in p]
        if values:
            table[name] = {
                "p50": round(statistics.median(values), 2),
                "p99": round(_percentile(values, 0.99), 2),
                "max": round(max(values), 2),
            }
    worst = sorted(requests, key=lambda r: r["received"] - r["sent"], reverse=True)[:slowest]
    detail = []
    for req in worst:
        overlapping = [
            {
                "kind": e["kind"],
                "ms": round((e["end"] - e["start"]) * 1000, 2),
                "at_ms": round((e["start"] - req["sent"]) * 1000, 1),
                **({"generation": e["generation"]} if "generation" in e else {}),
            }
            for e in others
            if e["end"] > req["sent"] and e["start"] < req["received"]
        ]
        detail.append(
            {
                "id": req["id"],
                "total_ms": round((req["received"] - req["sent"]) * 1000, 2),
                "batch": req.get("batch"),
                "phases_ms": phases(req),
                "meanwhile": overlapping,
            }
        )
    gcs = [e for e in events if e["kind"] == "gc"]
    return {
        "requests_traced": len(requests),
        "phases_ms": table,
        "slowest": detail,
        "gc": {
            "collections": len(gcs),
            "by_generation": {
                g: len([e for e in gcs if e.get("generation") == g]) for g in (0, 1, 2)
            },
            "max_ms": round(max(((e["end"] - e["start"]) * 1000 for e in gcs), default=0), 2),
        },
        "store_result_ms_max": round(
            max(
                ((e["end"] - e["start"]) * 1000 for e in events if e["kind"] == "store-result"),
                default=0,
            ),
            2,
        ),
    }
