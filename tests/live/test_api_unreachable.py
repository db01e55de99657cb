"""An API server that refuses or does not resolve is named as such, not as a timeout."""

from __future__ import annotations

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
