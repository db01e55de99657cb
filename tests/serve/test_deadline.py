"""A diagnosis run by `paramedic serve` ends within --timeout, its checks included.

The worker processes here get a `sitecustomize` (through PYTHONPATH, which the forkserver
they are forked from, started for this test alone, inherits) that makes the last check of the
runbook, readiness-probe, hang for a minute: the real server, store and fake API server do the
rest. The diagnosis must still be stored, done, with its cause, and that check inconclusive
for want of time, as `diagnose --timeout` reports it; before the fix the whole incident failed
("did not finish within --timeout") and the evidence was lost.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from paramedic.serve import settings, store

from . import servekit

HANG = """\
import dataclasses
import time

from paramedic.checks import registry

_get = registry.get


def _hanging(check_id):
    spec = _get(check_id)
    if spec is None or check_id != "readiness-probe":
        return spec
    return dataclasses.replace(spec, function=lambda context: time.sleep(60))


registry.get = _hanging
"""

INCIDENT = {"from": "user-service", "to": "profile-db.data", "port": 5432, "namespace": "app"}


def test_a_check_past_the_timeout_is_inconclusive_and_the_diagnosis_kept(
    sqlite_db: store.Store,
    config: settings.Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HANG)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    )
    hanging = dataclasses.replace(config, timeout=3, workers=1)
    with servekit.own_forkserver(), servekit.running(sqlite_db, hanging) as url:
        status, _, answer = servekit.request("POST", f"{url}/api/v1/incidents", INCIDENT)
        assert status == 202
        doc = servekit.diagnosed(url, answer["id"])
    assert (doc["state"], doc["error"]) == ("open", None)
    assert doc["top_cause"].startswith("network-policy:")
    late = {f["check"]: f for f in doc["diagnosis"]["next"]}["readiness-probe"]
    assert (late["verdict"], late["summary"]) == (
        "inconclusive",
        "did not finish within --timeout 3 s",
    )
    assert "check readiness-probe did not finish within --timeout 3 s" in doc["diagnosis"]["gaps"]
