"""Fixtures for the live path: the reference demo served by a local fake API server."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paramedic import timeouts
from paramedic.evidence import demos, model
from paramedic.gather import live

from . import fakeapi

RAW_SECRETS = {
    ("app", "profile-db-credentials"): {
        "username": "profile_app",
        "password": "Xq7-live-test-password-91",
    },
    ("data", "profile-db-superuser"): {"password": "Zt4-superuser-live-test-77"},
}
"""Real values served for the demo's Secrets (the bundle holds only digests)."""


def seed_objects() -> list[dict[str, Any]]:
    """The reference demo's objects, its Secrets holding real base64 values as a cluster has."""
    objects = []
    for obj in demos.load(demos.DEFAULT).objects:
        obj = copy.deepcopy(obj)
        meta = obj.get("metadata") or {}
        raw = RAW_SECRETS.get((meta.get("namespace"), meta.get("name")))
        if obj.get("kind") == "Secret" and raw:
            obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in raw.items()}
            meta.setdefault("annotations", {})[
                "kubectl.kubernetes.io/last-applied-configuration"
            ] = (
                '{"apiVersion":"v1","kind":"Secret","stringData":'
                + str(raw).replace("'", '"')
                + "}"
            )
        objects.append(obj)
    return objects


@pytest.fixture
def seed() -> model.Evidence:
    return demos.load(demos.DEFAULT)


@pytest.fixture
def server(seed: model.Evidence) -> Iterator[fakeapi.FakeApiServer]:
    with fakeapi.FakeApiServer(seed_objects(), logs=dict(seed.logs), metrics=seed.metrics) as srv:
        yield srv


@pytest.fixture
def kubeconfig(server: fakeapi.FakeApiServer, tmp_path: Path) -> Path:
    return server.kubeconfig(tmp_path / "kubeconfig", namespace="app")


def gather(
    kubeconfig: Path,
    *,
    source: str = "user-service",
    target: str = "profile-db.data",
    port: int | None = 5432,
    namespace: str | None = None,
    total: float = 20.0,
    probe_pod: bool = False,
) -> model.Evidence:
    return live.gather(
        model.Incident(source=source, target=target, port=port, namespace=namespace),
        kubeconfig=str(kubeconfig),
        context=None,
        limits=timeouts.DEFAULT.scaled_to(total),
        probe_pod=probe_pod,
        probe_image=None,
        db_probe=False,
        progress=False,
    )
