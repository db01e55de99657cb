"""`paramedic probe tcp|dns|postgres`: output, exit codes (DESIGN.md §3), redaction, --record."""

from __future__ import annotations

import json
import socket

import pytest

from paramedic.cli import main as cli_main
from paramedic.evidence import probes_file

from . import probefix_dns, probefix_pg


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli_main.main(["probe", *argv])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_open_port_exits_0_and_json_has_outcome_and_elapsed(
    capsys: pytest.CaptureFixture[str], listener: tuple[str, int]
) -> None:
    code, out, _ = _run(capsys, "tcp", f"127.0.0.1:{listener[1]}", "-o", "json")
    document = json.loads(out)
    assert code == 0 and document["outcome"] == "open"
    assert isinstance(document["elapsed_ms"], float) and document["data"]["address"] == "127.0.0.1"


def test_refused_port_exits_1_with_a_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    code, out, _ = _run(capsys, "tcp", f"127.0.0.1:{port}")
    assert code == 1
    assert out.startswith(f"tcp 127.0.0.1:{port}: refused (") and "ECONNREFUSED" in out


@pytest.mark.parametrize(
    "argv",
    [
        ("tcp", "no-port-here"),
        ("tcp", "db:99999"),
        ("tcp", "db:5432", "--timeout", "0"),
        ("tcp", "db:5432", "-o", "yaml"),
        ("dns", "db.example.test", "--server", "dns.google"),
        ("postgres", "host=db password='unterminated"),
        ("postgres", "host=db", "--password-file", "/nonexistent/password"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("paramedic: error: ") and err.count("\n") == 1
    assert "unterminated" not in err


@pytest.mark.parametrize(
    ("name", "code", "outcome"),
    [("db.example.test", 0, "resolved"), ("missing.example.test", 1, "nxdomain")],
)
def test_dns_exit_status_follows_the_outcome(
    capsys: pytest.CaptureFixture[str],
    dns_zone: probefix_dns.Dnsmasq,
    name: str,
    code: int,
    outcome: str,
) -> None:
    got, out, _ = _run(capsys, "dns", name, "--server", f"127.0.0.1:{dns_zone.port}", "-o", "json")
    assert got == code and json.loads(out)["outcome"] == outcome


def test_dns_search_domains_are_tried_and_listed(
    capsys: pytest.CaptureFixture[str], dns_zone: probefix_dns.Dnsmasq
) -> None:
    code, out, _ = _run(
        capsys,
        "dns",
        "profile-db.data",
        "--server",
        f"127.0.0.1:{dns_zone.port}",
        "--search",
        "shop.svc.cluster.local",
        "--search",
        "svc.cluster.local",
    )
    assert code == 0 and "10.96.0.40" in out
    assert "profile-db.data.shop.svc.cluster.local.  NXDOMAIN" in out


@pytest.mark.parametrize("how", ["dsn", "uri", "password-file", "PGPASSWORD"])
def test_postgres_ok_exits_0_and_never_prints_the_password(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,  # type: ignore[no-untyped-def]
    pg: probefix_pg.Server,
    how: str,
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    argv = [pg.dsn("app", password=False)]
    if how == "dsn":
        argv = [pg.dsn("app")]
    elif how == "uri":
        argv = [f"postgresql://app:app-secret@127.0.0.1:{pg.port}/appdb"]
    elif how == "password-file":
        secret = tmp_path / "password"
        secret.write_text("app-secret\n")
        argv += ["--password-file", str(secret)]
    else:
        monkeypatch.setenv("PGPASSWORD", "app-secret")
    for output in ("text", "json"):
        code, out, err = _run(capsys, "postgres", *argv, "-o", output)
        assert code == 0, out + err
        assert "app-secret" not in out + err
    assert "saturation" in json.loads(out)["data"]


def test_postgres_auth_failure_exits_1_and_the_text_names_the_cause(
    capsys: pytest.CaptureFixture[str], pg: probefix_pg.Server
) -> None:
    code, out, _ = _run(capsys, "postgres", pg.dsn("app", password=False) + " password=wrong-pw")
    assert code == 1 and "auth-failed" in out and "28P01" in out
    assert "wrong-pw" not in out


def test_record_adds_results_to_a_bundles_probes_json(
    capsys: pytest.CaptureFixture[str],
    tmp_path,
    listener: tuple[str, int],  # type: ignore[no-untyped-def]
) -> None:
    port = _closed_port()
    _run(capsys, "tcp", f"127.0.0.1:{listener[1]}", "--record", str(tmp_path))
    _run(capsys, "tcp", f"127.0.0.1:{port}", "--record", str(tmp_path))
    document = json.loads((tmp_path / "probes.json").read_text())
    results = probes_file.parse(document, where="probes.json")
    assert document["schema"] == "paramedic.probes/v1"
    assert [r.outcome for r in results] == ["open", "refused"]


def test_every_probe_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("tcp", "dns", "postgres"):
        code, out, _ = _run(capsys, command, "--help")
        assert code == 0 and "--timeout" in out and "-o, --output" in out
