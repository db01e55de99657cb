"""`-o text`: the terminal report, readable in ten seconds at 80 columns.

Causes come first with evidence, the exact fix, why it works and how to verify; then what
was inconclusive (and what would decide it), what was ruled out (one line each), and what is
likely to break next. Colour only when writing to a terminal.
"""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.padding import Padding
from rich.syntax import Syntax
from rich.text import Text

from paramedic.checks import model
from paramedic.runbooks import diagnosis

_STYLE = {
    model.Verdict.CAUSE: "bold white on red",
    model.Verdict.WARNING: "bold black on yellow",
    model.Verdict.INCONCLUSIVE: "bold black on bright_black",
    model.Verdict.RULED_OUT: "green",
}
_LABEL = {
    model.Verdict.CAUSE: " CAUSE ",
    model.Verdict.WARNING: " NEXT ",
    model.Verdict.INCONCLUSIVE: " ? ",
    model.Verdict.RULED_OUT: "ok",
}


def render(result: diagnosis.Diagnosis, *, width: int = 80, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )
    for block in _blocks(result):
        console.print(block)
    return buffer.getvalue()


def _blocks(result: diagnosis.Diagnosis) -> list[object]:
    inc = result.incident
    port = f":{inc['port']}" if inc.get("port") else ""
    blocks: list[object] = [
        Text.assemble(("paramedic", "bold"), " · ", result.title),
        Text(f"{inc['source']} → {inc['target']}{port}", style="bold"),
        Text(f"evidence: {result.provenance}" if result.provenance else "", style="dim"),
    ]
    causes = result.causes
    if causes:
        n = len(causes)
        blocks.append(Text(f"\n{n} cause{'s' if n > 1 else ''} found. Fix in this order:", style="bold"))
    elif result.errors:
        blocks.append(
            Text(f"\nNo cause found, but {len(result.errors)} check(s) could not run (see below).", style="bold yellow")
        )
    else:
        blocks.append(Text("\nNo cause found in the evidence.", style="bold green"))
    for i, finding in enumerate(causes, start=1):
        blocks += _detailed(finding, number=i)
    inconclusive = [f for f in result.findings if f.verdict is model.Verdict.INCONCLUSIVE]
    if inconclusive:
        blocks.append(Text("\nInconclusive (evidence missing):", style="bold"))
        for finding in inconclusive:
            blocks.append(_one_line(finding))
            if finding.missing:
                blocks.append(Padding(Text(f"→ {finding.missing}", style="dim"), (0, 0, 0, 4)))
    ruled_out = [f for f in result.findings if f.verdict is model.Verdict.RULED_OUT]
    if ruled_out:
        blocks.append(Text("\nRuled out:", style="bold"))
        blocks += [_one_line(f) for f in ruled_out]
    warnings = [f for f in result.findings if f.verdict is model.Verdict.WARNING]
    upcoming = [f for f in result.next if f.verdict is not model.Verdict.RULED_OUT] + warnings
    if upcoming:
        blocks.append(Text("\nWhat is likely to break next:", style="bold"))
        for finding in upcoming:
            blocks += _detailed(finding, number=None)
    if result.errors:
        blocks.append(Text("\nChecks that could not run:", style="bold red"))
        blocks += [Text(f"  {e.check}: {e.error}") for e in result.errors]
    if result.gaps:
        blocks.append(Text("\nNot gathered:", style="bold"))
        blocks += [Text(f"  {gap}", style="dim") for gap in result.gaps]
    return blocks


def _one_line(finding: model.Finding) -> Text:
    return Text.assemble(
        "  ", (_LABEL[finding.verdict], _STYLE[finding.verdict]), " ", (finding.check, "bold"), ": ", finding.summary
    )


def _detailed(finding: model.Finding, *, number: int | None) -> list[object]:
    prefix = f"{number}. " if number is not None else ""
    head = Text.assemble(
        "\n",
        (_LABEL[finding.verdict], _STYLE[finding.verdict]),
        " ",
        (f"{prefix}{finding.check}", "bold"),
        (f" ({finding.confidence} confidence)", "dim"),
    )
    parts: list[object] = [head, Padding(Text(finding.summary, style="bold"), (0, 0, 0, 2))]
    if finding.evidence:
        parts.append(Padding(Text("Evidence:", style="underline"), (0, 0, 0, 2)))
        for cite in finding.evidence:
            line = Text.assemble("• ", cite.text)
            if cite.source:
                line.append(f"  [{cite.source}]", style="dim")
            parts.append(Padding(line, (0, 0, 0, 4)))
    if finding.fix:
        parts.append(Padding(Text.assemble(("Fix: ", "underline"), finding.fix.summary), (0, 0, 0, 2)))
        for step in finding.fix.steps:
            parts.append(Padding(Text(step.description, style="italic"), (0, 0, 0, 4)))
            parts.append(Padding(_code(step.content, step.language), (0, 0, 0, 4)))
        for alt in finding.fix.alternatives:
            parts.append(Padding(Text(f"or: {alt}", style="dim"), (0, 0, 0, 4)))
    if finding.why:
        parts.append(Padding(Text.assemble(("Why it works: ", "underline"), finding.why), (0, 0, 0, 2)))
    if finding.verify:
        parts.append(Padding(Text.assemble(("Verify: ", "underline"), finding.verify), (0, 0, 0, 2)))
    return [Group(*parts)]


def _code(content: str, language: str) -> object:
    if language in ("yaml", "sql", "shell", "bash"):
        return Syntax(content.rstrip("\n"), "bash" if language == "shell" else language,
                      theme="ansi_dark", background_color="default", word_wrap=True)
    return Text(content.rstrip("\n"))
