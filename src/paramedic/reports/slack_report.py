"""`-o slack`: the diagnosis as a Slack Block Kit message for the incident channel.

Prints the JSON payload that `chat.postMessage` and incoming webhooks take
(`curl -H 'Content-Type: application/json' --data @- "$SLACK_WEBHOOK_URL"`): a header, the
headline, then the findings in `outline`'s order, in mrkdwn. Slack's limits are kept, so the
message is never refused: a header is at most 150 characters, a section text at most 3000, a
message at most 50 blocks (what does not fit is cut and the last block says so; `-o json` has
everything). Evidence text is escaped (&, <, >), so no mention, link or markup from the cluster
is interpreted, and `safe` shows control characters as escapes.
"""

from __future__ import annotations

import json
from typing import Any

from paramedic.reports import outline, safe
from paramedic.runbooks import diagnosis

MAX_HEADER = 150
MAX_SECTION = 3000
MAX_BLOCKS = 50
MAX_EVIDENCE_LINES = 6
_MARK = {
    "cause": ":x: *CAUSE",
    "inconclusive": ":grey_question: *INCONCLUSIVE",
    "next": (":warning: *NEXT (not a cause)"),
}


def render(result: diagnosis.Diagnosis) -> str:
    shape = outline.build(result)
    texts: list[str] = [_headline(shape)]
    texts += [_item(i) for i in shape.causes]
    texts += [_item(i) for i in shape.inconclusive]
    if shape.ruled_out:
        texts.append(
            "*Ruled out from the evidence*\n"
            + "\n".join(f"✓ `{f.check}` {safe.slack(f.summary)}" for f in shape.ruled_out)
        )
    if shape.upcoming:
        texts.append("*Not a cause — likely to break next, once the causes are fixed*")
        texts += [_item(i) for i in shape.upcoming]
    if shape.errors:
        texts.append("*Checks that could not run*\n" + _bullets(shape.errors))
    if shape.gaps:
        texts.append(
            "*Not gathered* (findings that need it say inconclusive)\n" + _bullets(shape.gaps)
        )
    texts.append(f"*{safe.slack(shape.headline.summary)}*")
    header = _cut(shape.page_title, MAX_HEADER)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _context(shape)}]},
    ]
    room = MAX_BLOCKS - len(blocks)
    sections = [_section(t) for text in texts for t in _split(text)]
    if len(sections) > room:
        cut = len(sections) - room + 1
        more = f"_… {cut} more block(s) not shown: Slack takes {MAX_BLOCKS}; -o json has all_"
        sections = [*sections[: room - 1], _section(more)]
    payload = {"text": safe.slack(shape.headline.summary), "blocks": blocks + sections}
    return safe.json_document(json.dumps(payload, indent=2, ensure_ascii=False)) + "\n"


def _context(shape: outline.Outline) -> str:
    return safe.slack(shape.incident) + " · " + " · ".join(safe.slack(p) for p in shape.provenance)


def _headline(shape: outline.Outline) -> str:
    headline = shape.headline
    lines = [f"*{safe.slack(headline.summary)}*"]
    if headline.run_pointer:
        lines.append(f"*Run* — {safe.slack(headline.run_pointer)}")
    elif headline.run is not None:
        lines += [f"*Run* — {safe.slack(headline.run_note)}:", _code(headline.run)]
    elif headline.run_note:
        lines.append(f"*Run* — {safe.slack(headline.run_note)}")
    if headline.verify is not None:
        lines += ["*Verify*", _code(headline.verify)]
    return "\n".join(lines)


def _item(item: outline.Item) -> str:
    f = item.finding
    number = f"{item.number}. " if item.number is not None else ""
    lines = [f"{_MARK[item.kind]} {number}`{f.check}`* — {f.confidence} confidence"]
    for part in item.parts:
        if part.cites:
            shown = part.cites[:MAX_EVIDENCE_LINES]
            lines.append(f"*{part.label}*")
            lines += [
                f"• {safe.slack(c.text)}" + (f" _[{safe.slack(c.source)}]_" if c.source else "")
                for c in shown
            ]
            if len(part.cites) > len(shown):
                lines.append(f"_… {len(part.cites) - len(shown)} more (-o json has them all)_")
            continue
        prose = safe.slack(part.prose)
        colon = ":" if part.code is not None else ""
        lines.append(f"*{part.label}*" + (f" — {prose}{colon}" if prose else ""))
        if part.code is not None:
            lines.append(_code(part.code))
    return "\n".join(lines)


def _code(code: outline.Code) -> str:
    return f"```{safe.slack_code(code.text)}```"


def _bullets(items: tuple[str, ...]) -> str:
    return "\n".join(f"• {safe.slack(i)}" for i in items)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _split(text: str) -> list[str]:
    """`text` in pieces of at most MAX_SECTION characters, cut between lines (a code block that
    is cut is closed and reopened, so each piece renders on its own)."""
    budget = MAX_SECTION - 8  # room to close and reopen a code block
    lines = [
        line[i : i + budget]  # one enormous line is cut: it still reads, it cannot paste
        for line in text.split("\n")
        for i in range(0, max(len(line), 1), budget)
    ]
    pieces: list[str] = []
    current, in_code = "", False
    for line in lines:
        if current and len(current) + 1 + len(line) > budget:
            current = _flush(pieces, current, in_code)
        current = f"{current}\n{line}" if current else line
        in_code ^= line.count("```") % 2 == 1
    pieces.append(current)
    return [p for p in pieces if p]


def _flush(pieces: list[str], current: str, in_code: bool) -> str:
    """Close the piece so far (and its open code block); the next piece reopens the block."""
    if current:
        pieces.append(current + "```" if in_code else current)
    return "```" if in_code else ""


def _cut(text: str, limit: int) -> str:
    text = safe.line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
