"""`paramedic serve` start-up: bad options and files are one line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

import clirun
from paramedic import errors
from paramedic.serve import routes

GOOD = "- match: {alertname: A}\n  from: {label: deployment}\n  to: db\n"


@pytest.mark.parametrize(
    ("args", "files", "says"),
    [
        (["--routes", "{dir}/r.yaml"], {"r.yaml": "- match: [\n"}, "r.yaml: line 2: invalid YAML"),
        (
            ["--routes", "{dir}/r.yaml"],
            {"r.yaml": "- from: a\n  to: b\n"},
            "route 0.match: Field required",
        ),
        (
            ["--routes", "{dir}/r.yaml"],
            {"r.yaml": "- match: {a: b}\n  from: a\n  to: b\n  via: c\n"},
            "route 0.via: Extra inputs are not permitted",
        ),
        (["--routes", "{dir}/missing.yaml"], {}, "cannot read the routes file"),
        (["--store", "mysql://db/x"], {}, "use sqlite:///PATH or postgresql://"),
        (["--listen", "localhost"], {}, "give HOST:PORT"),
        (["--token-file", "{dir}/t"], {"t": "\n"}, "the file is empty"),
        (["--notify", "ftp://x"], {}, "give an http:// or https:// URL"),
    ],
)
def test_bad_serve_options_are_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    files: dict[str, str],
    says: str,
) -> None:
    """In-process through the console script's `main` (the refusal happens before anything
    listens); the exit status and stderr are what the process would give."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    argv = [a.format(dir=tmp_path) for a in args]
    code, _, err = clirun.run(capsys, "serve", "--store", f"sqlite:///{tmp_path}/s.db", *argv)
    assert code == 2, err
    assert err.count("\n") == 1 and says in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (
            {"alertname": "A", "deployment": "web"},
            {"from": "web", "to": "db", "port": None, "namespace": None},
        ),
        ({"alertname": "A"}, None),  # the label the route reads is missing: no match
        ({"alertname": "B", "deployment": "web"}, None),
    ],
)
def test_routes_match_labels_and_read_fields(
    labels: dict[str, str], expected: dict[str, object] | None
) -> None:
    found = routes.resolve(routes.parse(GOOD, where="r"), labels)
    assert (found.as_dict() if found else None) == expected


def test_the_first_matching_route_wins_and_ports_become_numbers() -> None:
    table = routes.parse(
        "- match: {alertname: A}\n  from: x\n  to: y\n  port: {label: port}\n"
        "- match: {alertname: A}\n  from: other\n  to: z\n",
        where="r",
    )
    found = routes.resolve(table, {"alertname": "A", "port": "5432"})
    assert found is not None and (found.source, found.port) == ("x", 5432)


def test_an_empty_routes_file_routes_nothing() -> None:
    assert routes.parse("", where="r") == ()
    with pytest.raises(errors.InputError, match="r: route 0: Input should be"):
        routes.parse("- just a string\n", where="r")
