"""A restart loses nothing: what a crash cut off is diagnosed when the server comes back."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from paramedic.serve import records, schema, settings, store

from . import servekit

INCIDENT = {"from": "user-service", "to": "profile-db.data", "port": 5432, "namespace": "app"}


def test_queued_and_cut_off_incidents_are_diagnosed_after_a_restart(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    queued, _ = sqlite_db.add(INCIDENT, fingerprint="waiting")  # stored, never started
    running, _ = sqlite_db.add(INCIDENT, fingerprint="cut-off")
    sqlite_db.claim(running, lease=60)  # a worker had it when the server was killed
    with sqlite_db.engine.begin() as conn:
        conn.execute(
            sa.update(schema.incidents)
            .where(schema.incidents.c.id == running)
            .values(lease_until=records.now() - dt.timedelta(seconds=1))
        )
    with servekit.running(sqlite_db, config):
        servekit.wait_for(lambda: sqlite_db.phases() == {"done": 2}, 60, "both incidents diagnosed")
    for incident_id, attempts in ((queued, 1), (running, 2)):
        record = sqlite_db.get(incident_id)
        assert record is not None
        assert record.diagnosis is not None and record.error is None
        assert record.attempts == attempts
