"""What changed between two diagnoses of the same incident: the lines `diagnose --watch` prints.

While the engineer applies the fix, paramedic re-runs the diagnosis; printing the whole report
every few seconds would bury the one line that matters. Only changes are reported: a check whose
verdict moved (cause → ruled out is the fix landing), a new warning, a new gap, a check that
started or stopped failing to run. Text is made safe as in every report.
"""

from __future__ import annotations

from paramedic.checks import model
from paramedic.reports import safe
from paramedic.runbooks import diagnosis

_SHOWN = {
    model.Verdict.CAUSE: "cause",
    model.Verdict.RULED_OUT: "ruled out",
    model.Verdict.INCONCLUSIVE: "inconclusive",
    model.Verdict.WARNING: "warning",
}


def lines(before: diagnosis.Diagnosis, after: diagnosis.Diagnosis) -> list[str]:
    """One line per change from `before` to `after`, in the diagnosis' order (causes first);
    [] when nothing changed."""
    old = {f.check: f for f in (*before.findings, *before.next)}
    out: list[str] = []
    for finding in (*after.findings, *after.next):
        earlier = old.get(finding.check)
        summary = safe.line(finding.summary)
        check = safe.line(finding.check)
        if earlier is None:
            out.append(f"{check}: new, {_SHOWN[finding.verdict]}: {summary}")
        elif earlier.verdict is not finding.verdict:
            was, now = _SHOWN[earlier.verdict], _SHOWN[finding.verdict]
            out.append(f"{check}: {was} → {now}: {summary}")
    failing = {e.check for e in before.errors}
    out += [
        f"{safe.line(e.check)}: could not run: {safe.line(e.error)}"
        for e in after.errors
        if e.check not in failing
    ]
    out += [f"new gap: {safe.line(g)}" for g in after.gaps if g not in set(before.gaps)]
    return out


def remaining(result: diagnosis.Diagnosis) -> str:
    """The state in one line: the causes left, or that none remains."""
    if not result.causes:
        return "no cause remains"
    names = ", ".join(safe.line(f.check) for f in result.causes)
    return f"{len(result.causes)} cause{'s' if len(result.causes) > 1 else ''} left: {names}"
