"""A slow or hostile API server (issue 15 item 5, issue 13 item 2): --timeout is a promise for
the whole command, and logs are read by the API's own bounds (sinceSeconds, limitBytes).

The CLI runs as a program (a child process) where the exit itself is what is tested."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import pytest

import clirun
from paramedic import timeouts

from . import livekit

DB_LOG = ("data", "profile-db-0", "postgres")
NOW = datetime.datetime(2026, 11, 26, 3, 0, 0, tzinfo=datetime.UTC)
"""The fake API server's clock in the log-window tests: the database log below ends at it."""


_BOUND = 45.0
"""Seconds a run with --timeout 8 may take on a loaded CI machine (start-up included); before
the fix the drip-fed run ended only when the abandoned worker did (minutes), the huge-log run
after 37 minutes. docs/LIVE.md states the promise itself (--timeout + 1 s after start-up)."""


def test_a_drip_fed_events_list_cannot_keep_the_process_past_the_timeout(tmp_path: Path) -> None:
    with livekit.seed_server() as server:
        server.drip["/api/v1/namespaces/app/events"] = 0.5
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        wall, status, out, err = livekit.program(kubeconfig, "-o", "json", timeout=8)
    assert status in (0, 1), err
    assert '"schema": "paramedic.diagnosis/v1"' in out
    assert "list events in app" in out  # the abandoned request is a gap in the report
    assert wall < _BOUND


def test_huge_log_lines_from_a_server_ignoring_limit_bytes_stay_inside_the_timeout(
    tmp_path: Path,
) -> None:
    line = "2026-11-26T03:20:00Z ERROR pool acquire " + "x" * (5 * 1024 * 1024)
    with livekit.seed_server() as server:
        server.logs[("app", "user-service-7d9f8b6c5d-x2x9k", "app")] = (line,) * 4
        server.ignore_limit_bytes = True
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        wall, status, out, err = livekit.program(kubeconfig, "-o", "json", timeout=8)
    assert status in (0, 1), err
    assert "cut at 2048 KiB (limitBytes)" in out
    assert wall < _BOUND


def _log(minutes: int, lines_per_minute: int) -> tuple[str, ...]:
    """A database log of `minutes` minutes ending at NOW, slow statements first, then only
    `too many clients` (the pool-exhaustion incident: the cause is far from the tail)."""
    out = []
    for minute in range(minutes):
        for i in range(lines_per_minute):
            at = (NOW - datetime.timedelta(minutes=minutes - minute, seconds=-i)).strftime(
                "%Y-%m-%d %H:%M:%S"
            )
            text = (
                "LOG:  duration: 4312.5 ms  statement: SELECT * FROM profiles"
                if minute < 5
                else "FATAL:  sorry, too many clients already"
            )
            out.append(f"{at}.000 UTC [{100 + i}] {text}")
    return tuple(out)


def test_the_whole_window_is_read_not_the_last_200_lines(tmp_path: Path) -> None:
    with livekit.seed_server() as server:
        server.logs[DB_LOG] = _log(minutes=60, lines_per_minute=20)
        server.log_now = NOW  # 1,200 lines in the hour
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        evidence = livekit.gather(kubeconfig)
    lines = evidence.logs[DB_LOG]
    assert len(lines) == 1_200
    assert "duration: 4312.5 ms" in lines[0]


@pytest.mark.parametrize(("since", "kept"), [("10m", 200), ("1h", 1_200), ("2h", 1_200)])
def test_since_sets_the_window_the_api_is_asked_for(tmp_path: Path, since: str, kept: int) -> None:
    seconds = {"10m": 600.0, "1h": 3600.0, "2h": 7200.0}[since]
    with livekit.seed_server() as server:
        server.logs[DB_LOG] = _log(minutes=60, lines_per_minute=20)
        server.log_now = NOW
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        limits = dataclasses.replace(timeouts.DEFAULT.scaled_to(10), log_since=seconds)
        evidence = livekit.gather(kubeconfig, limits=limits)
    assert len(evidence.logs[DB_LOG]) == kept


def test_a_log_over_limit_bytes_is_cut_at_a_line_and_reported_as_a_gap(tmp_path: Path) -> None:
    with livekit.seed_server() as server:
        server.logs[DB_LOG] = _log(minutes=60, lines_per_minute=20)
        server.log_now = NOW
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        limits = dataclasses.replace(timeouts.DEFAULT.scaled_to(10), log_bytes=10_000)
        evidence = livekit.gather(kubeconfig, limits=limits)
    lines = evidence.logs[DB_LOG]
    assert 0 < len(lines) < 200
    assert all(line.endswith(("profiles", "already")) for line in lines)  # no half line
    assert any("log of data/profile-db-0/postgres cut at 9 KiB" in str(g) for g in evidence.gaps)


def _gather_cut(tmp_path: Path, served: tuple[str, ...]) -> tuple[Any, list[str]]:
    """The evidence gathered with the database log `served` and a 10,000-byte limitBytes, and
    the log requests the server saw."""
    with livekit.seed_server() as server:
        server.logs[DB_LOG] = served
        server.log_now = NOW
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        limits = dataclasses.replace(timeouts.DEFAULT.scaled_to(10), log_bytes=10_000)
        evidence = livekit.gather(kubeconfig, limits=limits)
        return evidence, [q for _, q in server.requests if "profile-db-0/log" in q]


def test_a_log_over_limit_bytes_keeps_its_newest_lines_not_its_oldest(tmp_path: Path) -> None:
    """limitBytes keeps the first bytes of the window: the incident is at its end (issue 15)."""
    served = _log(minutes=60, lines_per_minute=20)
    evidence, asked = _gather_cut(tmp_path, served)
    lines = evidence.logs[DB_LOG]
    assert lines == served[-len(lines) :]  # a tail of the window, ending at its newest line
    assert 50 < len(lines) < 200
    assert any("tailLines=" in q and "limitBytes=10000" in q for q in asked)
    gap = [str(g) for g in evidence.gaps if "profile-db-0/postgres" in str(g)]
    assert gap and f"only its newest {len(lines)} lines were read" in gap[0], gap


def test_newest_lines_longer_than_the_oldest_are_asked_for_again_with_fewer(
    tmp_path: Path,
) -> None:
    served = _log(minutes=60, lines_per_minute=20)
    served = (*served[:-50], *(line + " detail=" + "y" * 1000 for line in served[-50:]))
    evidence, _ = _gather_cut(tmp_path, served)
    lines = evidence.logs[DB_LOG]
    assert lines == served[-len(lines) :]
    assert all("detail=" in line for line in lines)  # only the newest, long lines
    assert any("only its newest" in str(g) for g in evidence.gaps)


def test_capture_writes_the_same_window(tmp_path: Path) -> None:
    from paramedic.evidence import bundle

    with livekit.seed_server() as server:
        server.logs[DB_LOG] = _log(minutes=60, lines_per_minute=20)
        server.log_now = NOW
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        done = clirun.subprocess(
            "capture", "--kubeconfig", str(kubeconfig), "--from", "user-service",
            "--to", "profile-db.data", "--since", "10m", str(tmp_path / "out"),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(bundle.load(tmp_path / "out").logs[DB_LOG]) == 200
