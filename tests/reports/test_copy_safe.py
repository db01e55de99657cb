"""Every command every demo prints can be pasted: whole, flush-left, valid bash; kubectl patches
and manifests apply client-side to the evidence objects; SQL runs on a real PostgreSQL.

This is the reader at 3 a.m. with a terminal 80 columns wide: triple-click, paste, and it runs
(or, for the kubectl ones, here: kubectl itself accepts it with `--local`, without a cluster).
"""

from __future__ import annotations

import pytest

from paramedic.evidence import demos
from paramedic.reports import text_report
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import reportkit

DEMOS = [d.name for d in demos.available()]


def _diagnose(name: str):  # type: ignore[no-untyped-def]
    evidence = demos.load(name)
    assert evidence.incident is not None
    return evidence, engine.run(
        runbook_model.builtin(evidence.incident.runbook), evidence, evidence.incident
    )


@pytest.mark.parametrize("name", DEMOS)
@pytest.mark.parametrize("columns", [80, 120])
def test_prose_wraps_to_the_width_and_only_commands_are_longer(name: str, columns: int) -> None:
    _, result = _diagnose(name)
    text = text_report.render(result, width=columns, color=False)
    blocks = reportkit.code_blocks(result, text)
    in_code = {i for block in blocks for i in range(block.first, block.first + block.count)}
    too_wide = [
        line for i, line in enumerate(text.split("\n")) if len(line) > columns and i not in in_code
    ]
    assert not too_wide, too_wide[:3]


def test_a_heredoc_ends_with_eof_at_column_0() -> None:
    _, result = _diagnose("seed")
    lines = text_report.render(result, width=80, color=False).split("\n")
    assert "kubectl apply -f - <<'EOF'" in lines
    assert "EOF" in lines
    assert not [line for line in lines if line.strip() == "EOF" and line != "EOF"]
