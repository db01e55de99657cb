"""A restart loses nothing: what a crash cut off is diagnosed when the server comes back."""

from __future__ import annotations

import datetime as dt
import os

import sqlalchemy as sa

from paramedic.serve import metrics, schema, settings, store, worker

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
            .values(lease_until=store.now() - dt.timedelta(seconds=1))
        )
    with servekit.running(sqlite_db, config):
        servekit.wait_for(lambda: sqlite_db.phases() == {"done": 2}, 60, "both incidents diagnosed")
    for incident_id, attempts in ((queued, 1), (running, 2)):
        record = sqlite_db.get(incident_id)
        assert record is not None
        assert record.diagnosis is not None and record.error is None
        assert record.attempts == attempts


def test_diagnoses_run_below_the_web_server_in_cpu_priority(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    """On a small node the webhook must answer while diagnoses run: the worker processes are
    niced, the server is not."""
    pool = worker.Pool(sqlite_db, config, metrics.Metrics())
    executor = pool._new_executor()
    try:
        assert executor.submit(os.nice, 0).result(timeout=60) == (
            min(19, os.nice(0) + worker.DIAGNOSIS_NICENESS)
        )
    finally:
        executor.shutdown(wait=True)
