"""Test plumbing for `paramedic serve`: the app under uvicorn on a loopback port, in a thread,
a small HTTP client (urllib) that returns status, headers and decoded body, and the diagnosis
worker processes as the test sees them (forked from this process's forkserver)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

import uvicorn

from paramedic.serve import app, settings, store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(db: store.Store, config: settings.Settings) -> Iterator[str]:
    """`paramedic serve`'s app under uvicorn on 127.0.0.1; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app.build(db, config),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextlib.contextmanager
def own_forkserver() -> Iterator[None]:
    """The diagnosis workers of the pools started inside the block are forked from a forkserver
    started there, with the environment the block set (e.g. PYTHONPATH); otherwise one
    forkserver, started by the first pool, serves every test of this process."""
    forkserver._forkserver._stop()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        forkserver._forkserver._stop()  # type: ignore[attr-defined]


def workers() -> dict[int, int]:
    """pid -> niceness of this process's diagnosis worker processes (children of its
    forkserver, or its own children started by multiprocessing's spawn)."""
    parents: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        parents[int(entry.name)] = int(ppid)
    mine = {pid for pid, parent in parents.items() if parent == os.getpid()}
    servers = {pid for pid in mine if b"multiprocessing.forkserver" in commands[pid]}
    found = {}
    for pid, parent in parents.items():
        if parent in servers or (pid in mine and b"multiprocessing.spawn" in commands[pid]):
            with contextlib.suppress(OSError):
                found[pid] = os.getpriority(os.PRIO_PROCESS, pid)
    return found


def diagnosed(url: str, incident_id: int) -> dict[str, Any]:
    """The incident's document once its diagnosis is stored (phase done), within 60 s."""

    def check() -> Any:
        doc = request("GET", f"{url}/api/v1/incidents/{incident_id}")[2]
        return doc if doc["phase"] == "done" else None

    return wait_for(check, 60, f"incident {incident_id} diagnosed")  # type: ignore[no-any-return]


def wait_for(check: Callable[[], Any], seconds: float, what: str) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} within {seconds} s")


def request(
    method: str,
    url: str,
    body: bytes | dict[str, Any] | list[Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON-decoded or text body) of one request; never raises on 4xx/5xx."""
    data = json.dumps(body).encode() if isinstance(body, dict | list) else body
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            status, got, raw = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        status, got, raw = exc.code, dict(exc.headers), exc.read()
    kind = got.get("content-type", "")
    decoded: Any = json.loads(raw) if "json" in kind and raw else raw
    if isinstance(decoded, bytes) and kind.startswith("text/"):
        decoded = decoded.decode()
    return status, got, decoded


def webhook_payload(
    alerts: list[dict[str, Any]], *, status: str | None = None, version: str = "4"
) -> dict[str, Any]:
    """An Alertmanager v4 webhook body around `alerts` (labels, status, fingerprint)."""
    full = [
        {
            "status": a.get("status", "firing"),
            "labels": a["labels"],
            "annotations": a.get("annotations", {}),
            "startsAt": "2026-12-03T03:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": a.get("generatorURL", "http://prometheus.example/graph"),
            "fingerprint": a["fingerprint"],
        }
        for a in alerts
    ]
    return {
        "version": version,
        "groupKey": '{}:{alertname="PostgresConnectionErrors"}',
        "truncatedAlerts": 0,
        "status": status
        or ("firing" if any(a["status"] == "firing" for a in full) else "resolved"),
        "receiver": "paramedic",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": full,
    }
