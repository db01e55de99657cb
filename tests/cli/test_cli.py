"""The command line as a user meets it: exit codes, one-line errors, help and docs everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from clirun import run
from paramedic.cli import main as cli_main
from paramedic.evidence import demos

README = Path(__file__).resolve().parents[2] / "README.md"


def test_reference_demo_exits_1_because_it_finds_a_cause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 1
    assert "user-service" in out and "profile-db" in out


def test_demo_json_follows_the_diagnosis_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "-o", "json")
    doc = json.loads(out)
    assert code == 1
    assert doc["schema"] == "paramedic.diagnosis/v1"
    assert set(doc["incident"]) >= {"source", "target", "port", "namespace"}
    assert doc["incident"]["port"] == 5432
    for finding in doc["findings"] + doc["next"]:
        assert finding["verdict"] in {"cause", "ruled-out", "inconclusive", "warning"}
        assert {"check", "confidence", "summary", "evidence", "fix", "why", "verify"} <= set(
            finding
        )
    verdicts = [f["verdict"] for f in doc["findings"]]
    assert verdicts == sorted(verdicts, key=["cause", "warning", "inconclusive", "ruled-out"].index)


def test_demo_list_names_every_bundled_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--list")
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines()]
    assert listed == [d.name for d in demos.available()]


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_demo_renders_other_formats(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = run(capsys, "demo", "-o", fmt)
    assert code == 1
    assert "profile-db" in out


def test_diagnose_bundle_with_incident_file_needs_no_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "diagnose", str(demos.root() / demos.DEFAULT), "-o", "json")
    assert code == 1
    assert json.loads(out)["incident"]["source"] == "Deployment app/user-service"


def test_diagnose_flags_override_the_incident_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "diagnose",
        str(demos.root() / demos.DEFAULT),
        "--from",
        "app=user-service",
        "-n",
        "app",
        "--to",
        "data/profile-db",
        "-o",
        "json",
    )
    assert code == 1
    assert json.loads(out)["incident"]["target"] == "Service data/profile-db"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diagnose", "/nonexistent/bundle"], "/nonexistent/bundle: no such file or directory"),
        (["demo", "no-such-demo"], "no demo named 'no-such-demo'"),
        (
            ["diagnose", "{seed}", "--from", "nobody", "-n", "app"],
            "no Deployment, StatefulSet, DaemonSet or Pod named 'nobody'",
        ),
        (
            ["diagnose", "{seed}", "--to", "data/nothing"],
            "no Service 'nothing' in namespace 'data'",
        ),
        (
            ["diagnose", "{seed}", "--to", "profile-db"],
            "Services named 'profile-db' exist in: data",
        ),
        (["diagnose", "{seed}", "--to", "data/profile-db", "--port", "9999"], "no port 9999"),
        (["diagnose", "{seed}", "-o", "yaml"], "Invalid value for '-o'"),
        (["diagnose", "{seed}", "--timeout", "0"], "Invalid value for '--timeout'"),
        (["diagnose", "{seed}", "--timeout", "nan"], "Invalid value for '--timeout'"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (
            ["diagnose", "{seed}", "--to", "profile-db.data:5432", "--port", "5433"],
            "names port 5432 but --port says 5433",
        ),
        (["diagnose", "{seed}", "--to", "http://profile-db.data:5432"], "not a URL"),
        (
            ["diagnose", "{seed}", "--to", "db.example.com:70000"],
            "port 70000 is out of range (1-65535)",
        ),
        (["diagnose", "{seed}", "--context", "prod"], "--context works only live"),
        (["diagnose", "{seed}", "--capture", "/tmp/x"], "--capture works only live"),
        (
            ["diagnose", "--to", "profile-db.data", "--watch", "--capture", "/tmp/x"],
            "--capture writes one gathering",
        ),
        (["diagnose", "{seed}", "--to", "data/"], "is not a Service, a DNS name or an IP address"),
        (["diagnose", "{seed}", "--to", "data/profile-db", "--port", "²"], "no port ²"),
        (
            ["netpol", "check", "{seed}", "--from", "10.0.0.8", "--to", "10.0.0.9", "--port", "²"],
            "no TCP port named '²'",
        ),
        (["capture", "/nonexistent/out", "--to", "profile-db.data"], "--from SRC --to DST"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    seed = str(demos.root() / demos.DEFAULT)
    code, out, err = run(capsys, *[a.replace("{seed}", seed) for a in argv])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("paramedic: error: ")
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["netpol", "assert", "{seed}", "{file}"], "{file}: not UTF-8 text (byte 0)"),
        (
            ["probe", "postgres", "host=127.0.0.1", "--password-file", "{file}"],
            "cannot read --password-file {file}: not UTF-8 text",
        ),
    ],
    ids=["netpol_expectations", "probe_password_file"],
)
def test_a_file_that_is_not_utf8_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    seed = str(demos.root() / demos.DEFAULT)
    code, _, err = run(
        capsys, *[a.replace("{seed}", seed).replace("{file}", str(binary)) for a in argv]
    )
    assert code == 2
    assert err.count("\n") == 1 and message.replace("{file}", str(binary)) in err


def test_invalid_yaml_names_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "objects.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n", encoding="utf-8")
    code, _, err = run(capsys, "diagnose", str(bad), "--from", "a", "--to", "b")
    assert code == 2
    assert re.search(rf"{re.escape(str(bad))}: line \d+: invalid YAML", err)


def test_missing_from_and_to_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "objects.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    code, _, err = run(capsys, "diagnose", str(tmp_path))
    assert code == 2
    assert "--from SRC --to DST" in err


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command and subcommand, as `--help` lists them (the top group loads lazily)."""
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix} {name}".strip()
        found.append((path, command))
        if isinstance(command, click.Group):
            found += _commands(command, path)
    return found


@pytest.mark.parametrize(
    ("path", "command"), _commands(cli_main.cli), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_has_help_and_is_documented(path: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`paramedic {path}` has no help text"
    docs = README.read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in (README.parent / "docs").glob("*.md")
    )
    assert f"paramedic {path}" in docs, f"`paramedic {path}` is not documented in README or docs/"


def test_an_error_line_shows_control_characters_as_escapes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Errors quote the API server, admission webhooks and credential plugins: their text must
    not drive the reader's terminal (OSC 52 writes the clipboard, CSI 2J clears the screen)."""
    from paramedic.cli import common

    with pytest.raises(SystemExit):
        common.fail("denied: \x1b]52;c;aGk=\x07\x1b[2J\u202eevil\ttab")
    assert capsys.readouterr().err == (
        "paramedic: error: denied: \\x1b]52;c;aGk=\\x07\\x1b[2J\\u202eevil\\ttab\n"
    )


def test_netpol_text_output_shows_a_hostile_policy_name_inert(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A bundle is whatever its author wrote: a policy named with an OSC 52 sequence must not
    write the reader's clipboard when `netpol check` quotes it."""
    import yaml

    objects = [dict(o) for o in demos.load(demos.DEFAULT).objects]
    for i, obj in enumerate(objects):
        if obj.get("kind") == "NetworkPolicy" and obj["metadata"]["name"] == "default-deny-egress":
            objects[i] = {**obj, "metadata": {**obj["metadata"], "name": "deny\x1b]52;c;aGk=\x07"}}
    (tmp_path / "objects.yaml").write_text(yaml.safe_dump({"kind": "List", "items": objects}))
    code, out, _ = run(
        capsys, "netpol", "check", str(tmp_path), "--from", "app/user-service",
        "--to", "data/profile-db", "--port", "5432",
    )  # fmt: skip
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out
    assert "NetworkPolicy app/deny\\x1b]52;c;aGk=\\x07" in out
