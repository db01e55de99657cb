"""`-o text`: the terminal report, readable in ten seconds at 80 columns, safe to paste from.

The order is `outline`'s: the headline first (top cause, confidence, the command to run, how to
verify), the findings, and the headline's one-line summary last, so the cause is on the first
and the last screen. Prose wraps; commands never do: every command, manifest and SQL block is
printed flush-left and whole (a long line scrolls off the right edge instead of breaking), so a
heredoc's `EOF` is at column 0 and a triple-click copies one runnable line. Colour only on a
terminal. Long evidence lists are cut to the strongest lines; `-o json` always has all of them.
"""

from __future__ import annotations

import io
import re

from rich.console import Console, ConsoleOptions, RenderResult
from rich.rule import Rule
from rich.segment import Segment
from rich.text import Text

from paramedic.checks import model
from paramedic.reports import outline
from paramedic.runbooks import diagnosis

MAX_EVIDENCE_LINES = 6
MAX_NEXT_EVIDENCE_LINES = 3
"""What is likely to break next shows fewer evidence lines: it must not push the cause away."""
_LABEL_WIDTH = 8
_CODE_STYLE = {"shell": "cyan", "yaml": "cyan", "sql": "cyan"}
_TRAILING_BLANKS = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)
_HEADLINE_STYLE = {
    "cause": "bold red",
    "inconclusive": "bold yellow",
    "errors": "bold yellow",
    "clear": "bold green",
}
_ITEM_MARK = {
    "cause": ("✗ CAUSE", "bold red"),
    "inconclusive": ("? INCONCLUSIVE", "bold yellow"),
    "next": ("! NEXT (not a cause)", "bold yellow"),
}


class _Code:
    """A command block printed exactly as it is, at column 0: never wrapped, never cut."""

    def __init__(self, code: outline.Code) -> None:
        self.code = code


class _Beside:
    """Fixed cells (`lead`) and, beside them, `content` wrapped in what is left of the width,
    its further lines indented under it: the two-column grid the report is laid out in, drawn
    without a table's measuring (which cost most of a report's rendering time)."""

    def __init__(self, lead: Text, content: Text) -> None:
        self.lead = lead
        self.content = content

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        indent = Segment(" " * self.lead.cell_len)
        width = max(1, options.max_width - self.lead.cell_len)
        lines = console.render_lines(self.content, options.update_width(width), pad=False)
        for i, line in enumerate(lines or [[]]):
            if i == 0:
                yield from self.lead.render(console)
            else:
                yield indent
            yield from line
            yield Segment.line()


def render(
    result: diagnosis.Diagnosis, *, width: int = 80, color: bool = False, brief: bool = False
) -> str:
    """The report; with `brief`, only the headline block (the summary, what to run, verify)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
    )
    shape = outline.build(result)
    blocks = _headline(shape, brief=True) if brief else _blocks(shape)
    for block in blocks:
        if isinstance(block, _Code):
            style = _CODE_STYLE.get(block.code.language, "")
            for line in block.code.text.split("\n"):
                console.print(Text(line, style=style), soft_wrap=True, crop=False)
        else:
            console.print(block)
    return _TRAILING_BLANKS.sub(r"\1", buffer.getvalue())


def _blocks(shape: outline.Outline) -> list[object]:
    blocks: list[object] = [
        Text.assemble(("paramedic", "bold"), " · ", shape.title),
        Text(shape.incident, style="bold"),
        Text(" · ".join(shape.provenance), style="dim"),
        Text(""),
        *_headline(shape),
    ]
    if shape.causes:
        n = len(shape.causes)
        blocks.append(_heading(f"{n} cause{'s' if n > 1 else ''} — fix in this order"))
        for item in shape.causes:
            blocks += _item(item)
    if shape.inconclusive:
        blocks.append(_heading("Inconclusive — the evidence to decide is missing"))
        for item in shape.inconclusive:
            blocks += _item(item)
    if shape.ruled_out:
        blocks.append(_heading("Ruled out from the evidence"))
        blocks += _ruled_out(shape.ruled_out)
    if shape.upcoming:
        blocks.append(_heading("Not a cause — likely to break next, once the causes are fixed"))
        for item in shape.upcoming:
            blocks += _item(item)
    if shape.errors:
        blocks.append(_heading("Checks that could not run"))
        blocks += [Text(f"  {e}") for e in shape.errors]
    if shape.gaps:
        blocks.append(_heading("Not gathered (findings that need it say inconclusive)"))
        blocks += [Text(f"  {gap}", style="dim") for gap in shape.gaps]
    blocks += [Text(""), Rule(style="dim"), _summary(shape.headline)]
    return blocks


def _heading(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def _summary(headline: outline.Headline) -> Text:
    return Text(headline.summary, style=_HEADLINE_STYLE[headline.status])


def _headline(shape: outline.Outline, *, brief: bool = False) -> list[object]:
    headline = shape.headline
    blocks: list[object] = [Rule(style="dim"), _summary(headline)]
    if headline.run_pointer and not brief:
        blocks.append(_labelled("Run", Text(headline.run_pointer)))
    elif headline.run is not None:
        blocks += [_labelled("Run", Text(f"{headline.run_note}:")), _Code(headline.run)]
    elif headline.run_note:
        blocks.append(_labelled("Run", Text(headline.run_note)))
    if headline.verify is not None:
        blocks += [_labelled("Verify", Text("")), _Code(headline.verify)]
    blocks.append(Rule(style="dim"))
    return blocks


def _item(item: outline.Item) -> list[object]:
    mark, style = _ITEM_MARK[item.kind]
    finding = item.finding
    blocks: list[object] = [
        Text.assemble(
            "\n",
            (mark, style),
            " ",
            (f"{item.number}. " if item.number is not None else "", "bold"),
            (finding.check, "bold"),
            (f"  {finding.confidence} confidence", "dim"),
        )
    ]
    for part in item.parts:
        if part.cites:
            limit = MAX_NEXT_EVIDENCE_LINES if item.kind == "next" else MAX_EVIDENCE_LINES
            blocks.append(_labelled(part.label, _cites(part.cites, limit)))
            continue
        prose = part.prose + (":" if part.code is not None and part.prose else "")
        style = "bold" if part.label in {"Cause", "Risk", "Finding"} else ""
        blocks.append(_labelled(part.label, Text(prose, style=style)))
        if part.code is not None:
            blocks.append(_Code(part.code))
    return blocks


def _ruled_out(findings: tuple[model.Finding, ...]) -> list[_Beside]:
    width = max(len(f.check) for f in findings)
    return [
        _Beside(
            Text.assemble(("  ✓", "green"), " ", (finding.check.ljust(width), "bold"), " "),
            Text(finding.summary),
        )
        for finding in findings
    ]


def _labelled(label: str, content: Text) -> _Beside:
    return _Beside(Text(label[:_LABEL_WIDTH].ljust(_LABEL_WIDTH) + " ", style="bold"), content)


def _cites(cites: tuple[model.Cite, ...], limit: int) -> Text:
    shown = cites[:limit]
    lines = Text("\n").join(_cite(c) for c in shown)
    hidden = len(cites) - len(shown)
    if hidden:
        lines.append(f"\n… {hidden} more (-o json has them all)", style="dim")
    return lines


def _cite(cite: model.Cite) -> Text:
    line = Text.assemble("• ", cite.text)
    if cite.source:
        line.append(f"  [{cite.source}]", style="dim")
    return line
