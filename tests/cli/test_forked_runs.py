"""`clirun.subprocess` forks paramedic from the tests' fork server (tests/zygote.py): what a test
reads from such a run must be what a genuinely started `python -m paramedic` gives, and the run
must get the request's arguments, environment, directory, limits and deadline, not the
server's."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

import clirun
from paramedic.evidence import demos


def test_a_forked_run_gives_what_a_started_process_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(demos.root())  # the bundle named relative to the working directory
    argv = ("diagnose", demos.DEFAULT, "--brief")
    forked = clirun.subprocess(*argv, env={"COLUMNS": "61"})
    started = clirun.subprocess(*argv, env={"COLUMNS": "61"}, fresh=True)
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        started.returncode,
        started.stdout,
        started.stderr,
    )
    assert forked.returncode == 1 and "CAUSE network-policy" in forked.stdout


def test_each_run_gets_its_own_environment_not_one_left_by_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    seed = str(demos.root() / demos.DEFAULT)
    narrow = clirun.subprocess("diagnose", seed, env={"COLUMNS": "60"})
    wide = clirun.subprocess("diagnose", seed)  # the default width: 80 columns
    headline = (narrow.stdout.splitlines()[0], wide.stdout.splitlines()[0])  # wrapped to fit
    assert len(headline[0]) <= 60 < len(headline[1]) <= 80, headline


def test_a_run_past_its_deadline_is_killed_and_raises_timeout_expired() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:  # accepts, never answers
        dsn = f"postgresql://app@127.0.0.1:{server.getsockname()[1]}/p"
        started = time.monotonic()
        with pytest.raises(subprocess.TimeoutExpired):
            clirun.subprocess("probe", "postgres", dsn, "--timeout", "60", timeout=1)
        assert time.monotonic() - started < 10
        server.settimeout(10)
        connection, _ = server.accept()
        with connection:
            connection.settimeout(10)
            assert connection.recv(1 << 16) is not None  # the startup message, if any
            while connection.recv(1 << 16):  # the end: the killed child's socket closed
                pass


def test_a_memory_limit_applies_to_the_forked_run(tmp_path: Path) -> None:
    seed = str(demos.root() / demos.DEFAULT)
    assert clirun.subprocess("diagnose", seed, "-o", "json").returncode == 1
    starved = clirun.subprocess("diagnose", seed, "-o", "json", memory=64 * 1024**2)
    assert starved.returncode not in (0, 1), starved.stderr
