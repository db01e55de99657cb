"""Running paramedic from a test: in-process (`run`, through `cli.main` as the console script
does) or as its own process (`subprocess`, for what only a process shows: exit codes after a
crash, stderr written by libraries, memory limits)."""

from __future__ import annotations

import os
import resource
import subprocess as sp
import sys
from collections.abc import Mapping

import pytest


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`paramedic ARGV` in-process: (exit status, stdout, stderr)."""
    from paramedic.cli import main as cli_main  # not needed by the benchmarks that import kits

    with pytest.raises(SystemExit) as exited:
        cli_main.main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def subprocess(
    *argv: str,
    timeout: float = 60,
    memory: int | None = None,
    env: Mapping[str, str] | None = None,
) -> sp.CompletedProcess[str]:
    """`python -m paramedic ARGV` as a child, its address space capped at `memory` bytes."""

    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return sp.run(
        [sys.executable, "-m", "paramedic", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        env={**os.environ, **(env or {})},
        check=False,
    )
