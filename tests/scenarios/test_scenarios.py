"""Every bundled demo incident, walked by one parametrized test.

Each demo folder carries expected.json: the exact set of checks that must call it a cause, which
one must come first, which must warn in `next`, and the exit status. Golden files pin the text
(80 columns, no colour), Markdown and JSON renderings; regenerate with --update-golden and review.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from paramedic.checks import model
from paramedic.evidence import demos
from paramedic.reports import json_report, markdown_report, text_report
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


@pytest.mark.parametrize("name", DEMOS)
@pytest.mark.parametrize(
    ("suffix", "render"),
    [
        ("txt", lambda r: text_report.render(r, width=80, color=False)),
        ("md", markdown_report.render),
        ("json", json_report.render),
    ],
    ids=["text", "markdown", "json"],
)
def test_demo_output_matches_golden_file(
    name: str, suffix: str, render, update_golden: bool
) -> None:  # type: ignore[no-untyped-def]
    actual = render(_diagnose(name))
    path = GOLDEN / f"{name}.{suffix}"
    if update_golden or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not update_golden:
            pytest.fail(
                f"golden file {path.name} was missing and has been written; review and commit it"
            )
    assert actual == path.read_text(encoding="utf-8")


def _verbatim_lines(result) -> set[str]:  # type: ignore[no-untyped-def]
    """Lines printed unwrapped on purpose (commands must paste as one line)."""
    lines: set[str] = set()
    for finding in (*result.findings, *result.next):
        if finding.fix:
            for step in finding.fix.steps:
                lines.update(line.strip() for line in step.content.splitlines())
            lines.update(f"or: {alt}" for alt in finding.fix.alternatives)
            lines.add(f"Undo     {finding.fix.rollback}")
        lines.add(f"Verify   {finding.verify}")
    return lines


@pytest.mark.parametrize("name", DEMOS)
def test_text_report_wraps_prose_at_80_columns_and_never_breaks_a_command(name: str) -> None:
    result = _diagnose(name)
    text = text_report.render(result, width=80, color=False)
    verbatim = _verbatim_lines(result)
    too_wide = [
        line for line in text.splitlines() if len(line) > 80 and line.strip() not in verbatim
    ]
    assert not too_wide, too_wide[:3]
    shown = (*result.causes, *(f for f in result.next if f.verdict is not model.Verdict.RULED_OUT))
    for finding in shown:
        for step in finding.fix.steps if finding.fix else ():
            for line in step.content.splitlines():
                assert any(out.strip() == line.strip() for out in text.splitlines()), line
