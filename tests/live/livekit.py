"""Shared set-up of the live-path tests and benchmarks/live_gather.py: the reference demo served
by the fake API server with real Secret values, one `live.gather` call with test defaults, and
the CLI run in-process."""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import json
import time
from pathlib import Path
from typing import Any

import pytest

import clirun
from paramedic import timeouts
from paramedic.evidence import demos, model, needs
from paramedic.gather import live
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import fakeapi

run = clirun.run  # the live tests call livekit.run(capsys, ...)

RAW_SECRETS = {
    ("app", "profile-db-credentials"): {
        "username": "profile_app",
        "password": "Xq7-live-test-password-91",
    },
    ("data", "profile-db-superuser"): {"password": "Zt4-superuser-live-test-77"},
}
"""Real values served for the demo's Secrets (the bundle holds only digests)."""

INCIDENT = model.Incident(source="user-service", target="profile-db.data", port=5432)
"""The reference demo's incident, as a user names it on the command line."""


@dataclasses.dataclass(frozen=True)
class Gathered:
    """One gathering and the server that answered it (the `gathered` fixture)."""

    server: fakeapi.FakeApiServer
    """Closed by now: its record of requests is what is left."""
    evidence: model.Evidence


@functools.cache
def _demo() -> model.Evidence:
    """The reference demo, loaded once per process (read, never changed)."""
    return demos.load(demos.DEFAULT)


@functools.cache
def _seed() -> tuple[dict[str, Any], ...]:
    """`seed_objects`, built once per process: never handed out without a copy."""
    objects = []
    for obj in _demo().objects:
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
    return tuple(objects)


def seed_objects() -> list[dict[str, Any]]:
    """The reference demo's objects, its Secrets holding real base64 values as a cluster has
    (a fresh copy: the caller may change them)."""
    return copy.deepcopy(list(_seed()))


def seed_server(
    *, metrics: bool = True, tls: tuple[Path, Path] | None = None
) -> fakeapi.FakeApiServer:
    """A fake API server holding the reference demo (objects, logs and, unless told, metrics);
    the server copies what it is given."""
    seed = _demo()
    return fakeapi.FakeApiServer(
        _seed(), logs=dict(seed.logs), metrics=seed.metrics if metrics else (), tls=tls
    )


def gather(
    kubeconfig: Path | str | None,
    *,
    source: str = INCIDENT.source,
    target: str = INCIDENT.target,
    port: int | str | None = 5432,
    namespace: str | None = None,
    total: float = timeouts.DEFAULT.total,
    limits: timeouts.Timeouts | None = None,
    context: str | None = None,
    probe_pod: bool = False,
    db_probe: bool = False,
    progress: bool = False,
    wanted: tuple[needs.Need, ...] | None = None,
) -> model.Evidence:
    """`live.gather` of SOURCE -> TARGET; `limits` defaults to the defaults cut to `total`,
    `wanted` to the needs of the db-connectivity runbook."""
    return live.gather(
        model.Incident(source=source, target=target, port=port, namespace=namespace),
        kubeconfig=None if kubeconfig is None else str(kubeconfig),
        context=context,
        limits=limits or timeouts.DEFAULT.scaled_to(total),
        probe_pod=probe_pod,
        probe_image=None,
        db_probe=db_probe,
        progress=progress,
        wanted=engine.needs(runbook_model.builtin("db-connectivity")) if wanted is None else wanted,
    )


def program(
    kubeconfig: Path, *args: str, timeout: float, memory: int | None = None, fresh: bool = False
) -> tuple[float, int, str, str]:
    """(wall seconds, exit status, stdout, stderr) of `paramedic diagnose` live of the reference
    incident with `--timeout timeout`, run as a program (its address space capped at `memory`
    bytes if given; a genuinely started one if `fresh`, else forked: tests/clirun.py)."""
    start = time.monotonic()
    done = clirun.subprocess(
        "diagnose",
        *("--kubeconfig", str(kubeconfig), "--from", "user-service", "--to", "profile-db.data"),
        *("--port", "5432", "--timeout", str(timeout), *args),
        timeout=120,
        memory=memory,
        fresh=fresh,
    )
    return time.monotonic() - start, done.returncode, done.stdout, done.stderr


def whole(finding: dict[str, Any]) -> tuple[object, ...]:
    """What must agree between two diagnoses: check, verdict, confidence, summary and the fix."""
    return (
        finding["check"],
        finding["verdict"],
        finding["confidence"],
        finding["summary"],
        json.dumps(finding["fix"]),
    )


def served_diagnosis(
    capsys: pytest.CaptureFixture[str],
    server: fakeapi.FakeApiServer,
    incident: model.Incident,
    workdir: Path,
    *more: str,
) -> tuple[int, dict[str, Any]]:
    """(exit status, JSON document) of `paramedic diagnose` live of `incident` against
    `server`; `more`: further arguments."""
    argv = ["--from", incident.source, "--to", incident.target, "-n", str(incident.namespace)]
    if incident.port is not None:
        argv += ["--port", str(incident.port)]
    config = str(server.kubeconfig(workdir / "k", namespace=str(incident.namespace)))
    code, out, err = run(capsys, "diagnose", *argv, "--kubeconfig", config, "-o", "json", *more)
    assert code in (0, 1), err
    return code, json.loads(out)


def bundle_diagnosis(evidence: model.Evidence) -> dict[str, Any]:
    """The JSON document of the diagnosis of a bundle holding `evidence` (a full dump)."""
    assert evidence.incident is not None
    book = runbook_model.builtin(evidence.incident.runbook)
    return engine.run(book, evidence, evidence.incident).as_dict()
