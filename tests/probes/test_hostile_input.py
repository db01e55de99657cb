"""`paramedic probe ...` given hostile input: one line, exit 2, nothing of a password shown."""

from __future__ import annotations

import pytest

from paramedic.cli import main as cli_main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli_main.main(["probe", *argv])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.mark.parametrize(
    ("dsn", "pieces"),
    [
        ("postgresql://app:SlashPw-eee/TailPw-fff@127.0.0.1:1/p", ("SlashPw", "TailPw")),
        ("postgresql://app:s3cr3t/Pa55@127.0.0.1:1/p", ("s3cr3t", "Pa55")),
        ("postgresql://app:1234/Pa55@127.0.0.1:1/p", ("1234", "Pa55")),
        ("postgres://app:At@Sign-ggg@127.0.0.1:1/p", ("At@", "Sign-ggg")),
        ("postgresql://app:Q?uery-hhh@127.0.0.1:1/p", ("uery-hhh",)),
        ("host=127.0.0.1 port=PortPw-iii password=x", ("PortPw-iii",)),
    ],
)
@pytest.mark.parametrize("output", ["text", "json"])
def test_a_dsn_whose_password_breaks_parsing_is_refused_without_quoting_it(
    capsys: pytest.CaptureFixture[str], dsn: str, pieces: tuple[str, ...], output: str
) -> None:
    code, out, err = _run(capsys, "postgres", dsn, "--timeout", "1", "-o", output)
    assert (code, out) == (2, "")
    assert err.startswith("paramedic: error: ") and err.count("\n") == 1
    assert [p for p in pieces if p in err] == []


def test_a_percent_encoded_password_is_accepted_and_never_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(
        capsys, "postgres", "postgresql://app:Enc%2FPw-jjj@127.0.0.1:1/p", "-o", "json"
    )
    assert code == 1, err
    assert "Enc" not in out + err and '"target": "postgresql://app@127.0.0.1:1/p"' in out
