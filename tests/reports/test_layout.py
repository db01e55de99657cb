"""First and last screen, provenance and Slack's limits: what a reader sees before scrolling."""

from __future__ import annotations

import dataclasses
import json
import re

from click.testing import CliRunner

from paramedic import __version__
from paramedic.checks import model
from paramedic.cli import main
from paramedic.evidence import demos
from paramedic.reports import (
    html_report,
    json_report,
    markdown_report,
    outline,
    slack_report,
    text_report,
)
from paramedic.runbooks import diagnosis, engine
from paramedic.runbooks import model as runbook_model

SCREEN = 24


def _seed() -> diagnosis.Diagnosis:
    evidence = demos.load("seed")
    assert evidence.incident is not None
    return engine.run(runbook_model.builtin("db-connectivity"), evidence, evidence.incident)


def test_the_cause_is_on_the_first_and_the_last_screen_at_80_columns() -> None:
    lines = text_report.render(_seed(), width=80, color=False).rstrip("\n").split("\n")
    assert len(lines) > SCREEN
    first, last = "\n".join(lines[:SCREEN]), "\n".join(lines[-SCREEN:])
    for screen in (first, last):
        assert "CAUSE network-policy (high confidence)" in screen
    assert "Verify" in first and "paramedic diagnose -n app" in first


def test_the_next_item_does_not_read_as_a_cause() -> None:
    text = text_report.render(_seed(), width=80, color=False)
    assert "! NEXT (not a cause) readiness-probe" in text
    assert "Not a cause — likely to break next" in text
    assert "CAUSE" not in text.split("! NEXT (not a cause)")[1].split("────")[0]


def test_brief_prints_only_the_headline() -> None:
    result = CliRunner().invoke(main.cli, ["demo", "--brief"], standalone_mode=False)
    assert result.return_value == 1
    assert result.output == text_report.render(_seed(), width=80, color=False, brief=True)
    assert result.output.count("CAUSE network-policy") == 1
    assert "Ruled out from the evidence" not in result.output
    assert "kubectl apply -f - <<'EOF'" in result.output
    refused = CliRunner().invoke(main.cli, ["demo", "--brief", "-o", "json"])
    assert refused.exit_code != 0


def test_every_format_says_where_when_and_by_which_version() -> None:
    result = _seed()
    assert result.evidence_time == "2026-11-26T03:24:11Z"
    for rendered in (
        text_report.render(result, width=80, color=False),
        markdown_report.render(result),
        html_report.render(result),
        slack_report.render(result),
    ):
        assert "demo seed" in rendered
        assert "newest object or log time 2026-11-26T03:24:11Z" in rendered
        assert f"paramedic {__version__}" in rendered.replace("\n", " ")
    doc = json.loads(json_report.render(result))
    assert doc["provenance"] == "demo seed"
    assert doc["evidence_time"] == "2026-11-26T03:24:11Z"
    assert doc["paramedic_version"] == __version__
    assert doc["summary"].startswith("CAUSE network-policy")


def test_html_title_names_the_incident_and_its_top_cause() -> None:
    page = html_report.render(_seed())
    assert (
        "<title>user-service gets 500s and timeouts talking to profile-db (egress NetworkPolicy)"
        " — cause: network-policy — paramedic</title>"
    ) in page
    healthy = demos.load("healthy")
    assert healthy.incident is not None
    clear = engine.run(runbook_model.builtin("db-connectivity"), healthy, healthy.incident)
    assert "— no cause found — paramedic</title>" in html_report.render(clear)


def test_slack_message_stays_within_slack_limits() -> None:
    base = _seed()
    cause = base.causes[0]
    huge = dataclasses.replace(
        cause,
        evidence=tuple(model.Cite(text="x" * 400, source=f"log {i}") for i in range(400)),
        why="why " * 2000,
    )
    assert huge.fix is not None
    step = model.FixStep(description="long", language="shell", content="echo " + "y" * 9000)
    huge = dataclasses.replace(huge, fix=dataclasses.replace(huge.fix, steps=(step,) * 30))
    payload = json.loads(slack_report.render(dataclasses.replace(base, findings=(huge,) * 5)))
    blocks = payload["blocks"]
    assert len(blocks) <= slack_report.MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) <= slack_report.MAX_HEADER
    for block in blocks[2:]:
        text = block["text"]["text"]
        assert len(text) <= slack_report.MAX_SECTION
        assert text.count("```") % 2 == 0, text[:200]
    assert "more block(s) not shown" in blocks[-1]["text"]["text"]


def test_a_finding_has_the_same_parts_in_the_same_order_in_every_format() -> None:
    result = _seed()
    labels = [p.label for p in outline.build(result).causes[0].parts]
    assert labels == ["Evidence", "Cause", "Fix", "Step", "Or", "Why", "Verify", "Undo"]
    text = text_report.render(result, width=120, color=False)
    markdown = markdown_report.render(result)
    html = html_report.render(result)
    for rendered, mark in ((text, r"\n{}\b"), (markdown, r"\*\*{}\*\*"), (html, "<dt>{}</dt>")):
        body = rendered.split("fix in this order")[1]
        found = [re.search(mark.format(label), body) for label in labels]
        positions = [m.start() if m else -1 for m in found]
        assert -1 not in positions and positions == sorted(positions), (mark, positions)
