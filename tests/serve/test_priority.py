"""`--worker-nice`: the diagnosis worker processes run at the niceness asked, and diagnose."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from paramedic.serve import settings, store

from . import servekit

INCIDENT = {"from": "user-service", "to": "profile-db.data", "port": 5432, "namespace": "app"}


def _workers() -> dict[int, int]:
    """pid -> niceness of this process's children started by multiprocessing's spawn."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        if int(parent) == os.getpid() and b"multiprocessing.spawn" in cmdline:
            found[int(entry.name)] = os.getpriority(os.PRIO_PROCESS, int(entry.name))
    return found


def test_worker_processes_run_at_the_niceness_asked_and_still_diagnose(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    earlier = set(_workers())  # another test's pool may still be stopping
    niced = dataclasses.replace(config, worker_nice=7, workers=1)
    with servekit.running(sqlite_db, niced) as url:
        status, _, answer = servekit.request("POST", f"{url}/api/v1/incidents", INCIDENT)
        assert status == 202
        doc = servekit.diagnosed(url, answer["id"])
        workers = {pid: nice for pid, nice in _workers().items() if pid not in earlier}
    assert doc["top_cause"].startswith("network-policy:")
    assert workers and set(workers.values()) == {min(base + 7, 19)}
