"""Fixtures for the live path: the reference demo served by a local fake API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paramedic.evidence import demos, model

from . import fakeapi, livekit


@pytest.fixture
def seed() -> model.Evidence:
    return demos.load(demos.DEFAULT)


@pytest.fixture
def server() -> Iterator[fakeapi.FakeApiServer]:
    with livekit.seed_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def gathered(tmp_path_factory: pytest.TempPathFactory) -> livekit.Gathered:
    """One default `livekit.gather` of the reference demo, shared by a module's tests that only
    read what it gathered and what it asked: a gathering costs ~0.1 s of CPU."""
    with livekit.seed_server() as srv:
        config = srv.kubeconfig(tmp_path_factory.mktemp("gathered") / "k", namespace="app")
        return livekit.Gathered(srv, livekit.gather(config))


@pytest.fixture
def kubeconfig(server: fakeapi.FakeApiServer, tmp_path: Path) -> Path:
    return server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
