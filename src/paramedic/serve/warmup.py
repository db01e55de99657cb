"""What `paramedic serve` does before it answers its first request, so no request pays for it.

1. The webhook's path is run once without storing anything: a sample payload is validated,
   and the statements the writer runs (find the incident firing under a fingerprint, close
   it) are executed on a store connection in a transaction that is rolled back — the
   connection is opened and SQLAlchemy's compiled-statement cache holds them.
2. The heap as it is then is left out of garbage collection (`gc.freeze`, when asked:
   `Settings.freeze_heap`, which the `serve` command sets). The server's interpreter holds
   ~70,000 objects of imported code (Starlette, SQLAlchemy, pydantic, paramedic); a full
   collection walked all of them and stopped every thread of the server for 0.1–0.2 s, which
   under a webhook burst was the slowest wave's whole tail (docs/PERFORMANCE.md). Frozen,
   they are never walked again; what is allocated afterwards is collected as before.

The worker processes are started by the pool itself (worker.Pool.start) before this runs.
"""

from __future__ import annotations

import gc
import json

from paramedic.serve import alerts, firing, store

FINGERPRINT = "paramedic-warm-up"
"""A fingerprint no Alertmanager sends (they are 16 hex digits): nothing is found or closed."""

SAMPLE = {
    "version": alerts.VERSION,
    "status": "firing",
    "receiver": "paramedic",
    "groupKey": "{}:{}",
    "externalURL": "http://alertmanager.invalid",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "PostgresConnectionErrors"},
            "annotations": {},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": FINGERPRINT,
        }
    ],
}


def request_path(db: store.Store) -> None:
    """Validate a sample payload and run the writer's statements, storing nothing."""
    payload = alerts.parse(json.dumps(SAMPLE).encode())
    for alert in payload.alerts:
        alert.as_dict()
    with db.engine.connect() as conn, conn.begin() as transaction:
        firing.find(conn, FINGERPRINT)
        firing.resolve(conn, FINGERPRINT)
        transaction.rollback()


def freeze_heap() -> None:
    """Collect what is garbage now, then leave every object alive out of later collections."""
    gc.collect()
    gc.freeze()
