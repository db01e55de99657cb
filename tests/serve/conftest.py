"""Fixtures for `paramedic serve`: stores (SQLite, and a real PostgreSQL 15 started as the
`postgres` user like the probe tests'), the fake API server with the reference demo, routes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import livekit
from paramedic.serve import routes, settings, store
from probes import probefix_pg

ROUTES = """
- match: {alertname: PostgresConnectionErrors}
  from: {label: deployment}
  to: {label: db_service}
  namespace: {label: namespace}
  port: 5432
"""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[probefix_pg.Server]:
    why = probefix_pg.missing()
    if why:
        pytest.skip(why)
    server = probefix_pg.Server(probefix_pg.template(), name="serve", max_connections=40)
    try:
        yield server.start()
    finally:
        server.stop()


def _pg_url(server: probefix_pg.Server, dbname: str) -> str:
    with server.superuser() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')  # type: ignore[call-overload]
        conn.execute(f'CREATE DATABASE "{dbname}" OWNER app')  # type: ignore[call-overload]
    password = probefix_pg.PASSWORDS["app"]
    return f"postgresql://app:{password}@{server.host}:{server.port}/{dbname}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: a SQLite file, or a fresh database on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'serve.db'}"
    server = request.getfixturevalue("pg_server")
    return _pg_url(server, f"serve_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**8}")


@pytest.fixture
def db(store_url: str) -> Iterator[store.Store]:
    opened = store.Store.open(store_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[store.Store]:
    opened = store.Store.open(f"sqlite:///{tmp_path / 'serve.db'}")
    yield opened
    opened.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Path]:
    """A kubeconfig for the fake API server serving the reference demo (a NetworkPolicy cause)."""
    with livekit.seed_server() as server:
        yield server.kubeconfig(tmp_path / "kubeconfig", namespace="app")


@pytest.fixture
def config(cluster: Path) -> settings.Settings:
    return settings.Settings(
        routes=routes.parse(ROUTES, where="test routes"),
        timeout=20,
        workers=2,
        queue=16,
        kubeconfig=str(cluster),
        sweep=0.5,
    )
