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


@pytest.fixture
def kubeconfig(server: fakeapi.FakeApiServer, tmp_path: Path) -> Path:
    return server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
