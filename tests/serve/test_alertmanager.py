"""End to end with real components: Debian's Alertmanager delivers alerts posted to its own API
to `paramedic serve`, which diagnoses them against the fake API server; resolving the alert in
Alertmanager closes the incident and keeps the diagnosis."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import fakeapi
from paramedic.evidence import demos
from paramedic.serve import routes, settings, store

from . import amfix, servekit
from .conftest import ROUTES

TOKEN = "am-bearer-token-for-tests"


@pytest.fixture
def demo_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    demo = demos.load(request.param)
    with fakeapi.FakeApiServer(demo.objects, logs=dict(demo.logs), metrics=demo.metrics) as api:
        yield request.param, api.kubeconfig(tmp_path / "kubeconfig", namespace="app")


@pytest.mark.parametrize(
    "demo_cluster", ["seed", "coredns-down", "selector-mismatch"], indirect=True
)
def test_alerts_through_alertmanager_become_diagnosed_incidents_and_resolve(
    demo_cluster: tuple[str, Path], sqlite_db: store.Store
) -> None:
    why = amfix.missing()
    if why:
        pytest.skip(why)
    name, kubeconfig = demo_cluster
    expected = json.loads((demos.root() / name / "expected.json").read_text())
    config = settings.Settings(
        routes=routes.parse(ROUTES, where="routes"),
        timeout=20,
        workers=1,
        queue=8,
        kubeconfig=str(kubeconfig),
        token=TOKEN,
    )
    labels = {
        "alertname": "PostgresConnectionErrors",
        "deployment": "user-service",
        "db_service": "profile-db.data",
        "namespace": "app",
        "severity": "critical",
    }
    with servekit.running(sqlite_db, config) as url:
        manager = amfix.Alertmanager(f"{url}/api/v1/alertmanager", TOKEN, servekit.free_port())
        try:
            manager.post(labels)
            manager.post(labels)  # the same alert again: still one incident
            done = servekit.wait_for(
                lambda: [r for r in sqlite_db.list() if r.phase == "done"],
                60,
                "the alert delivered and diagnosed",
            )
            incident = servekit.request("GET", f"{url}/api/v1/incidents/{done[0].id}")[2]
            manager.post(labels, resolved=True)
            closed = servekit.wait_for(
                lambda: [r for r in sqlite_db.list() if r.state == "closed"],
                60,
                "the resolved alert delivered",
            )
        finally:
            logs = manager.logs()
            manager.stop()
    assert len(sqlite_db.list()) == 1, logs
    assert incident["alert"]["labels"] == labels
    assert incident["alert"]["fingerprint"]
    causes = [f["check"] for f in incident["diagnosis"]["findings"] if f["verdict"] == "cause"]
    assert causes and causes[0] == expected["first"]
    assert set(causes) == set(expected["causes"])
    kept = sqlite_db.get(closed[0].id)
    assert kept is not None and kept.diagnosis == incident["diagnosis"]


def test_alertmanager_without_the_token_is_refused_and_nothing_stored(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    why = amfix.missing()
    if why:
        pytest.skip(why)
    config = dataclasses.replace(config, token=TOKEN)
    with servekit.running(sqlite_db, config) as url:
        manager = amfix.Alertmanager(
            f"{url}/api/v1/alertmanager", "not-the-token", servekit.free_port()
        )
        try:
            manager.post(
                {
                    "alertname": "PostgresConnectionErrors",
                    "deployment": "user-service",
                    "db_service": "profile-db.data",
                    "namespace": "app",
                }
            )
            servekit.wait_for(
                lambda: 'status="401"' in servekit.request("GET", f"{url}/metrics")[2],
                30,
                "Alertmanager's delivery refused",
            )
        finally:
            manager.stop()
    assert sqlite_db.list() == []
