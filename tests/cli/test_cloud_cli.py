"""`paramedic cloud check` and cloud files in `diagnose`: an explicit cloud input that is broken is
one line naming the file (exit 2); in a diagnosis it is a gap and the diagnosis goes on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramedic.cli import main as cli_main
from paramedic.evidence import demos

RDS = Path(demos.__file__).resolve().parent.parent / "demos" / "security-group-rds"


def _run(*argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_main.cli, list(argv), standalone_mode=False)
    code = result.return_value if isinstance(result.return_value, int) else 0
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        code, err = 2, str(result.exception)
        return code, result.stdout, err
    return code, result.stdout, result.stderr


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    out = tmp_path / "b"
    shutil.copytree(RDS, out)
    return out


def test_cloud_check_names_the_deciding_rule_and_exits_1(bundle):
    code, out, _ = _run(
        "cloud",
        "check",
        str(bundle),
        "--from",
        "10.0.1.11",
        "--to",
        "10.0.3.30",
        "--port",
        "5432",
        "-o",
        "json",
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["allowed"] is False
    denied = [layer for layer in doc["layers"] if layer["decision"] == "deny"]
    assert denied[0]["source"] == "cloud/aws/security-groups.json"


def test_cloud_check_allowed_exits_0(bundle):
    code, out, _ = _run(
        "cloud", "check", str(bundle), "--from", "10.0.1.11", "--to", "10.0.1.12", "--port", "22"
    )
    assert code == 0 and out.startswith("aws: 10.0.1.11 → 10.0.1.12:22/tcp: allow")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"SecurityGroups": [{"GroupId": "sg-1", "IpPerm', "line 1: invalid JSON"),
        (b'{"Vpcs": []}', "not a known aws CLI response"),
    ],
)
def test_broken_cloud_file_is_one_line_naming_it(bundle, capsys, content, message):
    (bundle / "cloud" / "aws" / "security-groups.json").write_bytes(content)
    with pytest.raises(SystemExit) as exited:
        cli_main.main(
            [
                "cloud",
                "check",
                str(bundle),
                "--from",
                "10.0.1.11",
                "--to",
                "10.0.3.30",
                "--port",
                "5432",
            ]
        )
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "cloud/aws/security-groups.json" in err and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_in_diagnose_a_broken_cloud_file_is_a_gap(bundle, capsys):
    (bundle / "cloud" / "aws" / "security-groups.json").write_bytes(b'{"SecurityGroups": [')
    with pytest.raises(SystemExit) as exited:
        cli_main.main(["diagnose", str(bundle), "-o", "json"])
    out = capsys.readouterr().out
    assert exited.value.code in (0, 1)
    doc = json.loads(out)
    firewall = next(f for f in doc["findings"] if f["check"] == "firewall")
    # without the groups file the evaluator cannot decide: no rule is invented
    assert any("security groups are not in the evidence" in e for e in firewall["evidence"])
    assert "Traceback" not in out
