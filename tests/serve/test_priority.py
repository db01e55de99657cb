"""`--worker-nice`: the diagnosis worker processes run at the niceness asked, and diagnose."""

from __future__ import annotations

import dataclasses
import os

from paramedic.serve import settings, store

from . import servekit

INCIDENT = {"from": "user-service", "to": "profile-db.data", "port": 5432, "namespace": "app"}


def test_worker_processes_run_at_the_niceness_asked_and_still_diagnose(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    earlier = set(servekit.workers())  # another test's pool may still be stopping
    niced = dataclasses.replace(config, worker_nice=7, workers=1)
    with servekit.running(sqlite_db, niced) as url:
        status, _, answer = servekit.request("POST", f"{url}/api/v1/incidents", INCIDENT)
        assert status == 202
        doc = servekit.diagnosed(url, answer["id"])
        workers = {pid: nice for pid, nice in servekit.workers().items() if pid not in earlier}
    assert doc["top_cause"].startswith("network-policy:")
    assert workers and set(workers.values()) == {min(base + 7, 19)}
