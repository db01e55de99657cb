"""`-o markdown`: the diagnosis ready to paste into an incident ticket.

Same order and parts as every format (`outline`). Evidence text is escaped so that nothing from
the cluster becomes HTML, a link, an image or emphasis; commands are fenced code blocks (the
fence longer than any backtick run inside), so they render whole and copy as they are.
"""

from __future__ import annotations

from paramedic.checks import model
from paramedic.reports import outline, safe
from paramedic.runbooks import diagnosis

_LANGUAGE = {"shell": "bash", "text": "text"}


def render(result: diagnosis.Diagnosis) -> str:
    shape = outline.build(result)
    esc = safe.markdown
    lines = [
        f"# {esc(shape.title)}",
        "",
        f"**{esc(shape.incident)}** — " + " · ".join(esc(p) for p in shape.provenance),
        "",
        *_headline(shape.headline),
    ]
    if shape.causes:
        n = len(shape.causes)
        lines += [f"## {n} cause{'s' if n > 1 else ''} — fix in this order", ""]
        lines += [line for item in shape.causes for line in _item(item)]
    if shape.inconclusive:
        lines += ["## Inconclusive — the evidence to decide is missing", ""]
        lines += [line for item in shape.inconclusive for line in _item(item)]
    if shape.ruled_out:
        lines += ["## Ruled out from the evidence", ""]
        lines += [f"- ✓ `{f.check}` {esc(f.summary)}" for f in shape.ruled_out]
        lines.append("")
    if shape.upcoming:
        lines += ["## Not a cause — likely to break next, once the causes are fixed", ""]
        lines += [line for item in shape.upcoming for line in _item(item)]
    if shape.errors:
        lines += ["## Checks that could not run", ""] + [f"- {esc(e)}" for e in shape.errors]
        lines.append("")
    if shape.gaps:
        lines += ["## Not gathered (findings that need it say inconclusive)", ""]
        lines += [f"- {esc(gap)}" for gap in shape.gaps] + [""]
    lines += ["---", "", f"**{esc(shape.headline.summary)}**"]
    return "\n".join(lines).rstrip("\n") + "\n"


def _headline(headline: outline.Headline) -> list[str]:
    lines = [f"> **{safe.markdown(headline.summary)}**", ""]
    if headline.run_pointer:
        lines += [f"**Run** — {safe.markdown(headline.run_pointer)}", ""]
    elif headline.run is not None:
        lines += [f"**Run** — {safe.markdown(headline.run_note)}:", "", *_code(headline.run)]
    elif headline.run_note:
        lines += [f"**Run** — {safe.markdown(headline.run_note)}", ""]
    if headline.verify is not None:
        lines += ["**Verify:**", "", *_code(headline.verify)]
    return lines


_MARK = {"cause": "✗ CAUSE", "inconclusive": "? INCONCLUSIVE", "next": "! NEXT (not a cause)"}


def _item(item: outline.Item) -> list[str]:
    f = item.finding
    number = f"{item.number}. " if item.number is not None else ""
    lines = [f"### {_MARK[item.kind]} {number}`{f.check}` — {f.confidence} confidence", ""]
    for part in item.parts:
        if part.cites:
            lines += [f"**{part.label}**", ""]
            lines += [_cite(c) for c in part.cites] + [""]
            continue
        prose = safe.markdown(part.prose)
        colon = ":" if part.code is not None else ""
        lines += [f"**{part.label}**" + (f" — {prose}{colon}" if prose else colon), ""]
        if part.code is not None:
            lines += _code(part.code)
    return lines


def _cite(cite: model.Cite) -> str:
    source = f" — *{safe.markdown(cite.source)}*" if cite.source else ""
    return f"- {safe.markdown(cite.text)}{source}"


def _code(code: outline.Code) -> list[str]:
    fence = safe.fence(code.text)
    return [f"{fence}{_LANGUAGE.get(code.language, code.language)}", code.text, fence, ""]
