"""`-o text`: the terminal report, readable in ten seconds at 80 columns.

Causes come first, each with its evidence, the exact fix, why it works and how to verify; then
what was inconclusive (and what would decide it), what was ruled out (one line each), and what
is likely to break next. Colour only when writing to a terminal. Long evidence lists are cut to
the strongest lines; `-o json` always has all of them.
"""

from __future__ import annotations

import io
import re

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from paramedic.checks import model
from paramedic.runbooks import diagnosis

MAX_EVIDENCE_LINES = 6
_INDENT = 9
"""Column where a finding's text starts, after labels such as 'Evidence'."""
_CODE_STYLE = {"shell": "cyan", "bash": "cyan", "yaml": "cyan", "sql": "cyan"}
_TRAILING_BLANKS = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)
_MARK = {
    model.Verdict.CAUSE: ("✗ CAUSE", "bold red"),
    model.Verdict.WARNING: ("! NEXT", "bold yellow"),
    model.Verdict.INCONCLUSIVE: ("?", "bold"),
    model.Verdict.RULED_OUT: ("✓", "green"),
}


class _Verbatim:
    """A line printed exactly as it is: never wrapped, never cut, so it pastes as one command."""

    def __init__(self, text: str, indent: int, style: str = "") -> None:
        self.text, self.indent, self.style = text, indent, style


def render(result: diagnosis.Diagnosis, *, width: int = 80, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
    )
    for block in _blocks(result):
        if isinstance(block, list):
            for part in block:
                _print(console, part)
        else:
            _print(console, block)
    return _TRAILING_BLANKS.sub(r"\1", buffer.getvalue())


def _print(console: Console, part: object) -> None:
    if isinstance(part, _Verbatim):
        for line in part.text.rstrip("\n").splitlines() or [""]:
            console.print(
                Text(" " * part.indent + line, style=part.style), soft_wrap=True, crop=False
            )
    else:
        console.print(part)


def _blocks(result: diagnosis.Diagnosis) -> list[object]:
    inc = result.incident
    port = f":{inc['port']}" if inc.get("port") else ""
    blocks: list[object] = [
        Text.assemble(("paramedic", "bold"), " · ", result.title),
        Text(f"{inc['source']} → {inc['target']}{port}", style="bold"),
    ]
    if result.provenance:
        blocks.append(Text(f"evidence: {result.provenance}", style="dim"))
    causes, inconclusive, headline = result.causes, result.inconclusive, result.headline()
    if causes:
        blocks.append(Text(f"\n{headline}:", style="bold"))
    elif result.errors:
        blocks.append(Text(f"\n{headline} (see below).", style="bold yellow"))
    elif inconclusive:
        blocks.append(Text(f"\n{headline} (see Inconclusive below).", style="bold yellow"))
    else:
        blocks.append(Text(f"\n{headline}.", style="bold green"))
    for i, finding in enumerate(causes, start=1):
        blocks.append(_detailed(finding, number=i))
    warnings = [f for f in result.findings if f.verdict is model.Verdict.WARNING]
    if inconclusive:
        blocks.append(Text("\nInconclusive — evidence missing:", style="bold"))
        blocks.append(_summary_table(list(inconclusive)))
    ruled_out = [f for f in result.findings if f.verdict is model.Verdict.RULED_OUT]
    if ruled_out:
        blocks.append(Text("\nRuled out:", style="bold"))
        blocks.append(_summary_table(ruled_out))
    upcoming = [*result.upcoming, *warnings]
    if upcoming:
        blocks.append(Text("\nWhat is likely to break next:", style="bold"))
        blocks += [_detailed(f, number=None) for f in upcoming]
    if result.errors:
        blocks.append(Text("\nChecks that could not run:", style="bold red"))
        blocks += [Text(f"  {e.check}: {e.error}") for e in result.errors]
    if result.gaps:
        blocks.append(
            Text("\nNot gathered (findings that need it say inconclusive):", style="bold")
        )
        blocks += [Text(f"  {gap}", style="dim") for gap in result.gaps]
    return blocks


def _summary_table(findings: list[model.Finding]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    for finding in findings:
        mark, style = _MARK[finding.verdict]
        text = Text(finding.summary)
        if finding.missing:
            text.append(f"\n→ {finding.missing}", style="dim")
        table.add_row(Text(f"  {mark}", style=style), Text(finding.check, style="bold"), text)
    return table


def _detailed(finding: model.Finding, *, number: int | None) -> list[object]:
    """Summary, then what to do (fix, verify, undo: commands verbatim), then evidence and why."""
    mark, style = _MARK[finding.verdict]
    parts: list[object] = [
        Text.assemble(
            "\n",
            (mark, style),
            " ",
            (f"{number}. " if number is not None else "", "bold"),
            (finding.check, "bold"),
            (f"  ({finding.confidence} confidence)", "dim"),
        ),
        _labelled("", Text(finding.summary, style="bold")),
    ]
    if finding.fix:
        parts.append(_labelled("Fix", Text(finding.fix.summary)))
        for step in finding.fix.steps:
            parts.append(_labelled("", Text(step.description.rstrip(":") + ":", style="italic")))
            parts.append(
                _Verbatim(
                    step.content, indent=_INDENT + 2, style=_CODE_STYLE.get(step.language, "")
                )
            )
        for alt in finding.fix.alternatives:
            parts.append(_Verbatim(f"or: {alt}", indent=_INDENT, style="dim"))
    if finding.verify:
        parts.append(_Verbatim(f"Verify   {finding.verify}", indent=0))
    if finding.fix and finding.fix.rollback:
        parts.append(_Verbatim(f"Undo     {finding.fix.rollback}", indent=0))
    if finding.evidence:
        shown = finding.evidence[:MAX_EVIDENCE_LINES]
        lines = Text("\n").join(_cite(c) for c in shown)
        hidden = len(finding.evidence) - len(shown)
        if hidden:
            lines.append(f"\n… {hidden} more (-o json has them all)", style="dim")
        parts.append(_labelled("Evidence", lines))
    if finding.why:
        parts.append(_labelled("Why", Text(finding.why)))
    return parts


def _labelled(label: str, content: RenderableType) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, style="bold", width=_INDENT - 1)
    table.add_column(ratio=1)
    table.add_row(label, content)
    return table


def _cite(cite: model.Cite) -> Text:
    line = Text.assemble("• ", cite.text)
    if cite.source:
        line.append(f"  [{cite.source}]", style="dim")
    return line
