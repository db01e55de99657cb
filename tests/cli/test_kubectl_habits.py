"""The command line takes what kubectl users type: TYPE/NAME on both sides (kind respected),
-l for the source, durations for --timeout, `kubectl paramedic`, shell completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import clirun
from paramedic.cli import common, main
from paramedic.evidence import demos

SEED = str(demos.root() / demos.DEFAULT)
BIN = Path(sys.executable).parent


def _run(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(main.cli, list(argv), standalone_mode=False)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        from paramedic import errors

        assert isinstance(result.exception, errors.ParamedicError), result.exception
        return 2, str(result.exception)
    return int(result.return_value or 0), result.output


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5", 5.0), ("2.5", 2.5), ("5s", 5.0), ("2m", 120.0), ("1m30s", 90.0), ("500ms", 0.5)],
)
def test_timeout_takes_seconds_or_a_duration(text: str, seconds: float) -> None:
    assert common.seconds(text) == seconds
    code, out = _run("diagnose", SEED, "--timeout", text, "--brief")
    assert code == 1, out


@pytest.mark.parametrize("text", ["5x", "m", "1.2.3s", "s5", ""])
def test_timeout_refuses_what_is_no_duration(text: str) -> None:
    assert common.seconds(text) is None
    done = clirun.subprocess("diagnose", SEED, "--timeout", text)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--timeout" in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--from", "deploy/user-service", "--to", "svc/profile-db.data"],
        ["--from", "deployment/user-service", "--to", "service/profile-db.data"],
        ["--from", "app/user-service", "--to", "data/profile-db"],
        ["-l", "app=user-service", "-n", "app", "--to", "svc/profile-db.data"],
        ["--selector", "app=user-service", "-n", "app", "--to", "profile-db.data"],
    ],
)
def test_kubectl_style_names_find_the_same_incident(argv: list[str]) -> None:
    code, out = _run("diagnose", SEED, *argv, "--port", "5432", "--brief")
    assert code == 1 and "CAUSE network-policy" in out, out


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--from", "sts/user-service", "--to", "svc/profile-db.data"], "no StatefulSet named"),
        (["--from", "po/user-service", "--to", "svc/profile-db.data"], "no Pod named"),
        (["--from", "deploy/user-service", "--to", "sts/profile-db"], "svc/NAME"),
        (["--from", "user-service", "-l", "app=x", "--to", "profile-db.data"], "not both"),
        (["-l", "user-service", "--to", "profile-db.data"], "not a label selector"),
    ],
)
def test_the_kind_given_is_respected(argv: list[str], complaint: str) -> None:
    code, out = _run("diagnose", SEED, *argv, "--port", "5432")
    assert code == 2 and complaint in out, out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_for_each_shell(shell: str) -> None:
    code, out = _run("completion", shell)
    assert code == 0 and "_PARAMEDIC_COMPLETE" in out


def test_bash_completion_completes_commands_and_options() -> None:
    env = {"_PARAMEDIC_COMPLETE": "bash_complete", "COMP_CWORD": "1"}
    done = clirun.subprocess(env={**env, "COMP_WORDS": "paramedic diag"})
    assert "plain,diagnose" in done.stdout.splitlines(), done.stdout
    done = clirun.subprocess(
        env={**env, "COMP_WORDS": "paramedic diagnose --wa", "COMP_CWORD": "2"}
    )
    assert "plain,--watch" in done.stdout.splitlines(), done.stdout


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_runs_paramedic_as_a_plugin() -> None:
    assert (BIN / "kubectl-paramedic").exists()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["kubectl", "paramedic", "demo", "--brief"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "CAUSE network-policy" in done.stdout
