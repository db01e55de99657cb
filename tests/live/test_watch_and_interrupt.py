"""`diagnose --watch` sees the fix land; Ctrl-C stops a slow live run at once with 130.

Both against the fake API server: the watch test removes the denying NetworkPolicies from the
"cluster" while paramedic watches; the interrupt test sends a real SIGINT to a `paramedic`
process stuck on a slow API answer and measures how long it takes to exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from . import fakeapi
from .livekit import run

DENYING = {"default-deny-egress", "user-service-egress"}


def test_watch_prints_only_what_changed_and_exits_0_once_the_cause_is_gone(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fix_lands() -> None:  # once the first round has read the policies (one wave, parallel)
        deadline = time.monotonic() + 60
        while not any("networkpolicies" in path for _, path in server.requests):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        time.sleep(0.3)
        with server._lock:
            server.objects[:] = [
                o
                for o in server.objects
                if not (
                    o.get("kind") == "NetworkPolicy"
                    and (o.get("metadata") or {}).get("name") in DENYING
                )
            ]

    threading.Thread(target=fix_lands, daemon=True).start()
    code, out, err = run(
        capsys,
        "diagnose",
        "--from", "deploy/user-service",
        "--to", "svc/profile-db.data",
        "--port", "5432",
        "--kubeconfig", str(kubeconfig),
        "--timeout", "10s",
        "--watch", "1",
    )  # fmt: skip
    assert code == 0, err
    report, _, watched = out.partition("watching every 1 s until no cause remains")
    assert "CAUSE network-policy" in report
    lines = [line for line in watched.splitlines() if line.strip()]
    assert any("network-policy: cause → ruled out" in line for line in lines), lines
    assert lines[-1].endswith("no cause remains")
    assert len(lines) <= 4, lines  # only changes: no report repeated every second


def test_watch_needs_the_live_cluster(
    seed_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "diagnose", str(seed_bundle), "--watch")
    assert code == 2 and "--watch" in err


@pytest.fixture
def seed_bundle() -> Path:
    from paramedic.evidence import demos

    return demos.root() / demos.DEFAULT


def test_ctrl_c_stops_a_slow_live_run_within_half_a_second_with_130(
    server: fakeapi.FakeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    server.slow["/api/v1/namespaces/app/pods"] = 60.0
    server.slow["/apis/apps/v1/namespaces/app"] = 60.0
    out = tmp_path / "incident.tar.gz"
    # A suite started in the background (`cmd &` in a script) runs with SIGINT ignored, which a
    # child inherits across exec, and Python then installs no handler for it: the child gets
    # SIGINT as a terminal would deliver it, whatever this process was started with.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # reset to default by exec
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "paramedic", "capture",
            "--from", "user-service", "--to", "profile-db.data", "--port", "5432",
            "--kubeconfig", str(kubeconfig), "--timeout", "2m", str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    if ignored:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        deadline = time.monotonic() + 30
        while not any("/namespaces/app/" in path for _, path in server.requests):
            assert time.monotonic() < deadline, "paramedic never asked the API server"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        time.sleep(0.5)  # well inside the slow answers
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert took < 0.5, f"took {took:.2f} s to stop"
    assert stderr.strip() == "paramedic: error: interrupted", stderr
    assert stdout == ""
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".incident", "incident"))]
    assert not leftovers, leftovers  # nothing half-written
