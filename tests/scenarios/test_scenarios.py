"""Every bundled demo incident, walked by one parametrized test.

Each demo folder carries expected.json: the exact set of checks that must call it a cause, which
one must come first, which must warn in `next`, and the exit status. Golden files pin every
format as `paramedic demo` prints it at 80 and 120 columns (text without colour); regenerate
with --update-golden and review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramedic.checks import model
from paramedic.cli import main
from paramedic.evidence import demos
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

GOLDEN = Path(__file__).parent.parent / "golden"
PLACEHOLDER = re.compile(r"<[A-Za-z][\w .-]*>|\b(?:YOUR|REPLACE|CHANGE)_?ME\b|\bTODO\b|\bxxx\b")
"""What makes a runbook useless at 3 a.m.: `<pod-name>`, REPLACE_ME, TODO."""
DEMOS = [d.name for d in demos.available()]


def _diagnose(name: str):  # type: ignore[no-untyped-def]
    evidence = demos.load(name)
    assert evidence.incident is not None, f"demo {name} needs an incident.yaml"
    runbook = runbook_model.builtin(evidence.incident.runbook)
    return engine.run(runbook, evidence, evidence.incident)


def _expected(name: str) -> dict:  # type: ignore[type-arg]
    path = demos.root() / name / "expected.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_is_a_reference_demo_and_it_comes_first() -> None:
    assert DEMOS[0] == demos.DEFAULT


@pytest.mark.parametrize("name", DEMOS)
def test_demo_names_the_expected_causes_first(name: str) -> None:
    expected = _expected(name)
    result = _diagnose(name)
    assert not result.errors, f"checks failed to run: {result.errors}"
    causes = [f.check for f in result.causes]
    assert set(causes) == set(expected["causes"])
    assert (causes[0] if causes else None) == expected["first"]
    warned = [f.check for f in result.next if f.verdict is model.Verdict.WARNING]
    assert set(expected.get("next", [])) <= set(warned)
    assert (1 if causes else 0) == expected["exit"]


@pytest.mark.parametrize("name", DEMOS)
def test_every_cause_carries_evidence_fix_why_and_verify(name: str) -> None:
    for finding in _diagnose(name).causes:
        assert finding.evidence, f"{finding.check}: a cause needs evidence"
        assert finding.fix is not None and finding.fix.summary, (
            f"{finding.check}: a cause needs a fix"
        )
        assert finding.why and finding.verify, f"{finding.check}: a cause needs why and verify"
        for step in finding.fix.steps:
            placeholder = PLACEHOLDER.search(step.content)
            assert placeholder is None, (
                f"{finding.check}: fix is a template: {placeholder.group(0)!r}"
            )


GOLDEN_FORMATS = {
    "text": "txt",
    "markdown": "md",
    "json": "json",
    "html": "html",
    "slack": "slack.json",
}


WIDE_TOO = ("seed", "two-causes", "too-many-connections")
"""Demos whose formats other than text are also printed 120 columns wide (they must not depend
on the width: they share one golden file); the others' at 80 only, each run costing ~25 ms."""
GOLDEN_RUNS = [
    (name, output, columns)
    for name in DEMOS
    for output in sorted(GOLDEN_FORMATS)
    for columns in (80, 120)
    if output == "text" or columns == 80 or name in WIDE_TOO
]


@pytest.mark.parametrize(("name", "output", "columns"), GOLDEN_RUNS)
def test_demo_output_matches_golden_file(
    name: str, output: str, columns: int, update_golden: bool
) -> None:
    """What `paramedic demo NAME -o FORMAT` prints in a terminal of that width (text wraps to
    it; every other format must not depend on it, so both widths share one golden file)."""
    result = CliRunner().invoke(
        main.cli,
        ["demo", name, "-o", output],
        env={"COLUMNS": str(columns), "NO_COLOR": "1"},
        standalone_mode=False,
    )
    assert result.exception is None, result.output
    assert result.return_value == _expected(name)["exit"]
    suffix = GOLDEN_FORMATS[output]
    path = GOLDEN / (f"{name}.{columns}.{suffix}" if output == "text" else f"{name}.{suffix}")
    if update_golden or not path.exists():
        path.write_text(result.output, encoding="utf-8")
        if not update_golden:
            pytest.fail(
                f"golden file {path.name} was missing and has been written; review and commit it"
            )
    assert result.output == path.read_text(encoding="utf-8")
