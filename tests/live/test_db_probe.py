"""--db-probe: a real PostgreSQL 15 behind the fake API server's port-forward, reached with the
credentials the source's Deployment takes from its Secret."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paramedic import timeouts
from paramedic.evidence import demos, model, probes_file
from paramedic.gather import db_probe

from . import fakeapi
from .livekit import INCIDENT, gather, seed_objects

try:
    from probes import probefix_pg
except ImportError:  # pragma: no cover - the probe fixtures live in tests/probes
    probefix_pg = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    reason = probefix_pg.missing() if probefix_pg else "tests/probes/probefix_pg.py is missing"
    if reason:
        pytest.skip(reason)
    server = probefix_pg.Server(probefix_pg.template(), name="live-db-probe")
    try:
        yield server.start()
    finally:
        server.stop()


def _cluster(password: str, url: str | None = None) -> list[dict[str, Any]]:
    """The demo, with user-service configured for the test server's `app` role (and `url` as
    its DATABASE_URL, when given)."""
    objects = seed_objects()
    for obj in objects:
        meta = obj["metadata"]
        if (
            obj["kind"] in ("Deployment", "Pod")
            and meta["namespace"] == "app"
            and "user-service" in meta["name"]
        ):
            spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
            for var in spec["containers"][0].get("env", []):
                var.update(
                    {"DB_USER": {"value": "app"}, "DB_NAME": {"value": "appdb"}}.get(
                        var["name"], {}
                    )
                )
            if url is not None:
                spec["containers"][0]["env"].append({"name": "DATABASE_URL", "value": url})
        if obj["kind"] == "Secret" and meta["name"] == "profile-db-credentials":
            obj["data"]["password"] = base64.b64encode(password.encode()).decode()
    return objects


def _probe(
    pg: Any, tmp_path: Path, password: str, *, forbid: bool = False, url: str | None = None
) -> tuple[model.Evidence, Any]:
    seed = demos.load(demos.DEFAULT)
    with fakeapi.FakeApiServer(
        _cluster(password, url), logs=dict(seed.logs), metrics=seed.metrics
    ) as server:
        server.forwards[("data", "profile-db-0")] = (pg.host, pg.port)
        if forbid:
            server.forbidden.add(("create", "pods/portforward", "data"))
        config = str(server.kubeconfig(tmp_path / "k", namespace="app"))
        limits = timeouts.Timeouts(postgres=5.0)
        evidence = gather(config, limits=limits)
        evidence = db_probe.run(
            evidence, evidence.incident or INCIDENT, kubeconfig=config, context=None, limits=limits
        )
        return evidence, server


def test_db_probe_reaches_the_database_through_a_port_forward_with_the_secrets_password(
    pg: Any, tmp_path: Path
) -> None:
    evidence, server = _probe(pg, tmp_path, probefix_pg.PASSWORDS["app"])
    (result,) = evidence.probes_of("postgres")
    assert result.outcome == "ok", result.detail
    assert result.source == "port-forward to Pod data/profile-db-0:5432"
    assert result.target == "app@data/profile-db-0:5432/appdb"
    assert result.data["max_connections"] == 10
    assert (
        "DB_PASSWORD <- Secret profile-db-credentials key password"
        in result.data["credentials_from"]
    )
    assert probefix_pg.PASSWORDS["app"] not in json.dumps(result.as_dict())
    assert any(p.endswith("/pods/profile-db-0/portforward?ports=5432") for _, p in server.requests)


def test_a_rotated_password_is_an_auth_failure_not_a_crash(pg: Any, tmp_path: Path) -> None:
    evidence, _ = _probe(pg, tmp_path, "the-old-password")
    (result,) = evidence.probes_of("postgres")
    assert result.outcome == "auth-failed"
    assert "the-old-password" not in json.dumps(result.as_dict())


def test_a_hostaddr_in_the_apps_url_does_not_lead_the_probe_around_the_port_forward(
    pg: Any, tmp_path: Path
) -> None:
    url = "postgresql://app@profile-db.data:5432/appdb?hostaddr=192.0.2.1"  # TEST-NET: no answer
    evidence, _ = _probe(pg, tmp_path, probefix_pg.PASSWORDS["app"], url=url)
    (result,) = evidence.probes_of("postgres")
    assert result.outcome == "ok", result.detail
    assert "DATABASE_URL" in result.data["credentials_from"]


def test_a_forbidden_port_forward_is_a_gap(pg: Any, tmp_path: Path) -> None:
    evidence, _ = _probe(pg, tmp_path, probefix_pg.PASSWORDS["app"], forbid=True)
    assert evidence.probes_of("postgres") == ()
    assert any(
        g.startswith("database probe not run: port-forward to data/profile-db-0: HTTP 403")
        for g in map(str, evidence.gaps)
    ), (evidence.gaps, evidence.probes)


@pytest.mark.parametrize(
    ("env", "found"),
    [
        (
            [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}],
            ("DATABASE_URL", None, None),
        ),
        (
            [
                {"name": "PGUSER", "value": "a"},
                {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw"}}},
            ],
            (None, "PGUSER", "PGPASSWORD"),
        ),
        ([{"name": "LOG_LEVEL", "value": "info"}], None),
    ],
)
def test_credentials_are_found_by_the_names_clients_use(
    env: list[dict[str, Any]], found: tuple[str | None, ...] | None
) -> None:
    template = {
        "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [{"name": "app", "env": env}]}}},
    }
    creds = db_probe.credentials(template)
    if found is None:
        assert creds is None
    else:
        assert creds is not None
        names = tuple(v.name if v else None for v in (creds.url, creds.user, creds.password))
        assert names == found


def test_capture_with_db_probe_records_the_result_and_never_the_password(
    pg: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from paramedic.cli import main as cli_main

    seed = demos.load(demos.DEFAULT)
    with fakeapi.FakeApiServer(
        _cluster(probefix_pg.PASSWORDS["app"]), logs=dict(seed.logs)
    ) as server:
        server.forwards[("data", "profile-db-0")] = (pg.host, pg.port)
        config = str(server.kubeconfig(tmp_path / "k", namespace="app"))
        out = tmp_path / "bundle"
        with pytest.raises(SystemExit) as exited:
            cli_main.main(
                [
                    "capture",
                    "--from",
                    "user-service",
                    "--to",
                    "profile-db.data",
                    "--kubeconfig",
                    config,
                    "--db-probe",
                    str(out),
                ]
            )
    assert exited.value.code == 0, capsys.readouterr().err
    doc = json.loads((out / "probes.json").read_text())
    assert [p["outcome"] for p in doc["probes"] if p["kind"] == "postgres"] == ["ok"]
    secret = probefix_pg.PASSWORDS["app"].encode()
    for path in out.rglob("*"):
        if path.is_file():
            assert (
                secret not in path.read_bytes()
                and base64.b64encode(secret) not in path.read_bytes()
            )


@pytest.mark.parametrize(
    ("outcome", "relay_errors", "failure"),
    [
        ("auth-failed", ["port-forward relay: connection reset by peer"], ""),
        ("too-many-connections", ["port-forward relay: websocket closed"], ""),
        ("ok", ["port-forward relay: websocket closed"], ""),
        ("timeout", ["port-forward to data/db-0: pod not running"], "port-forward to data/db-0"),
        ("error", ["port-forward relay: websocket closed"], "port-forward relay"),
        ("timeout", [], ""),
    ],
)
def test_a_relay_error_drops_the_result_only_when_postgres_never_answered(
    outcome: str, relay_errors: list[str], failure: str
) -> None:
    # The flake this fixes: PostgreSQL rejects the old password and closes the connection; the
    # relay logs that close as an error, and the auth-failed answer used to be dropped with it.
    result = probes_file.ProbeResult(kind="postgres", target="t", outcome=outcome, elapsed_ms=1.0)
    assert db_probe.tunnel_failure(result, relay_errors).startswith(failure)
    assert bool(db_probe.tunnel_failure(result, relay_errors)) is bool(failure)
