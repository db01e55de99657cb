"""`-o markdown`: the diagnosis ready to paste into an incident ticket."""

from __future__ import annotations

from paramedic.checks import model
from paramedic.runbooks import diagnosis


def render(result: diagnosis.Diagnosis) -> str:
    inc = result.incident
    port = f":{inc['port']}" if inc.get("port") else ""
    lines = [
        f"# {result.title}",
        "",
        f"**{inc['source']} → {inc['target']}{port}**"
        + (f" — evidence: {result.provenance}" if result.provenance else ""),
        "",
    ]
    causes = result.causes
    lines.append(f"## Causes ({len(causes)})" if causes else f"## {result.headline()}")
    lines.append("")
    for i, finding in enumerate(causes, start=1):
        lines += _detailed(finding, heading=f"### {i}. `{finding.check}` — {finding.summary}")
    rest = [f for f in result.findings if f.verdict is not model.Verdict.CAUSE]
    if rest:
        lines += ["## Other checks", "", "| check | verdict | summary |", "| --- | --- | --- |"]
        for finding in rest:
            summary = finding.summary.replace("|", "\\|")
            if finding.missing:
                summary += f" — *needs:* {finding.missing.replace('|', chr(92) + '|')}"
            lines.append(f"| `{finding.check}` | {finding.verdict} | {summary} |")
        lines.append("")
    if result.upcoming:
        lines += ["## What is likely to break next", ""]
        for finding in result.upcoming:
            lines += _detailed(finding, heading=f"### `{finding.check}` — {finding.summary}")
    if result.errors:
        lines += ["## Checks that could not run", ""]
        lines += [f"- `{e.check}`: {e.error}" for e in result.errors]
        lines.append("")
    if result.gaps:
        lines += ["## Not gathered", ""] + [f"- {gap}" for gap in result.gaps] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _detailed(finding: model.Finding, *, heading: str) -> list[str]:
    lines = [heading, "", f"*Verdict:* {finding.verdict} ({finding.confidence} confidence)", ""]
    if finding.evidence:
        lines += ["**Evidence**", ""]
        lines += [
            f"- {c.text}" + (f" (`{c.source}`)" if c.source else "") for c in finding.evidence
        ]
        lines.append("")
    if finding.fix:
        lines += [f"**Fix:** {finding.fix.summary}", ""]
        for step in finding.fix.steps:
            lang = "bash" if step.language == "shell" else step.language
            lines += [
                f"{step.description}:",
                "",
                f"```{lang}",
                step.content.rstrip("\n"),
                "```",
                "",
            ]
        lines += [f"- or: {alt}" for alt in finding.fix.alternatives]
        if finding.fix.alternatives:
            lines.append("")
    if finding.why:
        lines += [f"**Why it works:** {finding.why}", ""]
    if finding.verify:
        lines += [f"**Verify:** {finding.verify}", ""]
    if finding.fix and finding.fix.rollback:
        lines += [f"**Undo:** `{finding.fix.rollback}`", ""]
    return lines
