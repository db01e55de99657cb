"""An API server that refuses or does not resolve is named as such, not as a timeout; credentials
that never come (a hung exec plugin) end the run within --timeout."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from paramedic.cli import main as cli_main

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server}"}}}}]
users: [{{name: u, user: {{token: abc}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u, namespace: app}}}}]
current-context: x
"""


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ("https://127.0.0.1:1", "connection refused"),
        ("https://nosuch.invalid:6443", "API server name does not resolve"),
    ],
)
def test_unreachable_api_server_is_one_line_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: str, message: str
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG.format(server=server), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        cli_main.main(
            ["diagnose", "--kubeconfig", str(config), "--from", "user-service", "--to", "db.data"]
        )
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and message in err and "timed out" not in err


def test_through_a_proxy_the_name_is_the_proxys_to_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """paramedic looks the API server's name up itself only without a proxy: behind one (here
    a closed port), a name this machine cannot resolve may be one the proxy can."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG.format(server="https://nosuch.invalid:6443"), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        cli_main.main(
            ["diagnose", "--kubeconfig", str(config), "--from", "user-service", "--to", "db.data"]
        )
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and "does not resolve" not in err, err


HANGING_PLUGIN = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: sleep, args: ["20"],
           interactiveMode: Never}
contexts: [{name: x, context: {cluster: c, user: u, namespace: app}}]
current-context: x
"""


def test_a_hanging_credential_plugin_cannot_outlast_the_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(HANGING_PLUGIN, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(SystemExit) as exited:
        cli_main.main(
            [
                "diagnose",
                *("--kubeconfig", str(config), "--timeout", "1"),
                *("--from", "user-service", "--to", "db.data"),
            ]
        )
    err = capsys.readouterr().err
    assert time.monotonic() - started < 10  # the plugin would hold the run for 20 s
    assert exited.value.code == 2
    assert err.count("\n") == 1 and "no credentials within 1 s" in err
