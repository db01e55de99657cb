"""The one structure every format renders: what comes first, what comes last, and the parts of
each finding in one order.

A reader at 3 a.m. sees the same report whatever the format: a headline (the top cause, its
confidence, the one command to run, how to verify), the causes in the order to fix them, what was
inconclusive and what would decide it, what was ruled out, what is likely to break next (visibly
not a cause), what could not be gathered, and the headline's one-line summary again. Each finding
is shown as evidence → cause → fix → why → verify → undo; commands are `Code`, never prose, so
every renderer prints them whole and flush-left. All text is made `safe.visible` here, once.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from paramedic.checks import model
from paramedic.reports import safe
from paramedic.runbooks import diagnosis

_TOOLS = r"(?:kubectl|paramedic|psql|nc|dig|nslookup|curl|helm|nft|iptables|sudo)\s"
_COMMAND = re.compile(rf"^(?:(?P<prose>.*?):\s+)??(?P<code>{_TOOLS}.*)$", re.DOTALL)
"""An advice string written "what it does: the command" (alternatives, what would decide)."""
SHORT_COMMAND_LINES = 4
"""The headline repeats the first fix step when it is at most this long, else points at it."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """A command, manifest or SQL: printed whole, flush-left, never wrapped."""

    language: str
    text: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One labelled part of a finding: prose, code, citations, or prose followed by code."""

    label: str
    """Evidence, Cause, Risk, Fix, Or, Why, Verify, Undo, Needs (the same in every format)."""
    prose: str = ""
    code: Code | None = None
    cites: tuple[model.Cite, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """A finding shown in full."""

    finding: model.Finding
    kind: str
    """"cause", "next" (likely to break after the fix, not a cause) or "inconclusive"."""
    number: int | None
    parts: tuple[Part, ...]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Headline:
    summary: str
    """The one line, first and last: what was found."""
    status: str
    """"cause", "inconclusive", "errors" or "clear"."""
    run: Code | None = None
    run_note: str = ""
    """What `run` does."""
    run_pointer: str = ""
    """When `run` is too long to repeat above the findings: where it is below ("" = repeat it)."""
    verify: Code | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Outline:
    title: str
    incident: str
    provenance: tuple[str, ...]
    headline: Headline
    causes: tuple[Item, ...]
    inconclusive: tuple[Item, ...]
    ruled_out: tuple[model.Finding, ...]
    upcoming: tuple[Item, ...]
    errors: tuple[str, ...]
    gaps: tuple[str, ...]
    page_title: str
    """A title naming the incident and its top cause (HTML <title>, chat header)."""


def split_command(text: str) -> tuple[str, Code | None]:
    """("what it does", the command) for "what it does: command", else (text, None)."""
    match = _COMMAND.match(text)
    if match is None:
        return text, None
    return match.group("prose") or "", Code(language="shell", text=match.group("code"))


def verify_code(text: str) -> Code | None:
    return Code(language="shell", text=text) if text else None


def parts(finding: model.Finding, *, kind: str) -> tuple[Part, ...]:
    """evidence → cause → fix (steps, alternatives) → why → verify → undo."""
    out: list[Part] = []
    if finding.evidence:
        out.append(Part(label="Evidence", cites=finding.evidence))
    label = {"cause": "Cause", "next": "Risk"}.get(kind, "Finding")
    out.append(Part(label=label, prose=finding.summary))
    if finding.missing:
        prose, code = split_command(finding.missing)
        out.append(Part(label="Needs", prose=prose, code=code))
    if finding.fix:
        out.append(Part(label="Fix", prose=finding.fix.summary))
        for step in finding.fix.steps:
            code = Code(language=step.language, text=step.content.rstrip("\n"))
            out.append(Part(label="Step", prose=step.description.rstrip(":"), code=code))
        for alternative in finding.fix.alternatives:
            prose, code = split_command(alternative)
            out.append(Part(label="Or", prose=prose, code=code))
    if finding.why:
        out.append(Part(label="Why", prose=finding.why))
    if finding.verify:
        out.append(Part(label="Verify", code=verify_code(finding.verify)))
    if finding.fix and finding.fix.rollback:
        prose, code = split_command(finding.fix.rollback)
        out.append(Part(label="Undo", prose=prose, code=code))
    return tuple(out)


def build(result: diagnosis.Diagnosis) -> Outline:
    result = _safe(result)
    inc = result.incident
    port = f":{inc['port']}" if inc.get("port") else ""
    causes = tuple(
        Item(finding=f, kind="cause", number=i, parts=parts(f, kind="cause"))
        for i, f in enumerate(result.causes, start=1)
    )
    inconclusive = tuple(
        Item(finding=f, kind="inconclusive", number=None, parts=parts(f, kind="inconclusive"))
        for f in result.inconclusive
    )
    warnings = [f for f in result.findings if f.verdict is model.Verdict.WARNING]
    upcoming = tuple(
        Item(finding=f, kind="next", number=None, parts=parts(f, kind="next"))
        for f in (*result.upcoming, *warnings)
    )
    incident = f"{inc['source']} → {inc['target']}{port}"
    headline = _headline(result, causes, inconclusive)
    name = result.incident_title or incident
    top = f"cause: {causes[0].finding.check}" if causes else "no cause found"
    return Outline(
        title=result.incident_title or result.title,
        incident=incident,
        provenance=_provenance(result),
        headline=headline,
        causes=causes,
        inconclusive=inconclusive,
        ruled_out=tuple(f for f in result.findings if f.verdict is model.Verdict.RULED_OUT),
        upcoming=upcoming,
        errors=tuple(f"{e.check}: {e.error}" for e in result.errors),
        gaps=result.gaps,
        page_title=f"{name} — {top}",
    )


def _provenance(result: diagnosis.Diagnosis) -> tuple[str, ...]:
    out = [f"evidence: {result.provenance or 'unknown source'}"]
    if result.evidence_time:
        out.append(f"{result.evidence_time_basis or 'taken'} {result.evidence_time}")
    else:
        out.append("evidence time unknown")
    out.append(f"paramedic {result.version}")
    return tuple(out)


def _headline(
    result: diagnosis.Diagnosis, causes: tuple[Item, ...], inconclusive: tuple[Item, ...]
) -> Headline:
    if causes:
        top = causes[0].finding
        more = len(causes) - 1
        summary = f"CAUSE {top.check} ({top.confidence} confidence): {top.summary}"
        if more:
            others = ", ".join(c.finding.check for c in causes[1:])
            summary += f" — and {more} more cause{'s' if more > 1 else ''}: {others}"
        return Headline(
            summary=summary, status="cause", verify=verify_code(top.verify), **_first_step(top)
        )
    if result.errors:
        return Headline(summary=result.headline(), status="errors")
    if inconclusive:
        first = inconclusive[0].finding
        prose, code = split_command(first.missing) if first.missing else ("", None)
        return Headline(
            summary=result.headline(),
            status="inconclusive",
            run=code,
            run_note=f"to decide {first.check}, get {prose or 'the evidence'}" if code else "",
        )
    return Headline(summary=result.headline(), status="clear")


def _first_step(finding: model.Finding) -> dict[str, Any]:
    if finding.fix is None or not finding.fix.steps:
        return {"run_note": finding.fix.summary if finding.fix else ""}
    step = finding.fix.steps[0]
    content = step.content.rstrip("\n")
    if step.language == "text":
        return {"run_note": content}
    lines = content.count("\n") + 1
    first = content.split("\n", 1)[0]
    pointer = f"the {lines}-line `{first}` under cause 1's Fix below"
    return {
        "run": Code(language=step.language, text=content),
        "run_note": step.description.rstrip(":"),
        "run_pointer": pointer if lines > SHORT_COMMAND_LINES else "",
    }


def _safe(result: diagnosis.Diagnosis) -> diagnosis.Diagnosis:
    """The diagnosis with every string made visible-safe (names and prose on one line, code and
    manifests keep newlines and tabs)."""

    def finding(f: model.Finding) -> model.Finding:
        fix = f.fix
        if fix is not None:
            fix = dataclasses.replace(
                fix,
                summary=safe.line(fix.summary),
                steps=tuple(
                    dataclasses.replace(
                        s, description=safe.line(s.description), content=safe.visible(s.content)
                    )
                    for s in fix.steps
                ),
                alternatives=tuple(safe.line(a) for a in fix.alternatives),
                rollback=safe.line(fix.rollback),
            )
        return dataclasses.replace(
            f,
            check=safe.line(f.check),
            summary=safe.line(f.summary),
            evidence=tuple(
                model.Cite(text=safe.line(c.text), source=safe.line(c.source)) for c in f.evidence
            ),
            fix=fix,
            why=safe.line(f.why),
            verify=safe.visible(f.verify),
            missing=safe.line(f.missing),
        )

    return dataclasses.replace(
        result,
        title=safe.line(result.title),
        incident={k: safe.line(str(v)) if v is not None else v for k, v in result.incident.items()},
        findings=tuple(finding(f) for f in result.findings),
        next=tuple(finding(f) for f in result.next),
        errors=tuple(
            diagnosis.CheckError(check=safe.line(e.check), error=safe.line(e.error))
            for e in result.errors
        ),
        provenance=safe.line(result.provenance),
        gaps=tuple(safe.line(g) for g in result.gaps),
        incident_title=safe.line(result.incident_title),
    )
