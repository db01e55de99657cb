"""The immutable result of running a runbook: what every report renders (schema v1).

The JSON form is a contract (DESIGN.md §4): extend it, never rename.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from paramedic import __version__
from paramedic.checks import model

SCHEMA = "paramedic.diagnosis/v1"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CheckError:
    check: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "error": self.error}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Diagnosis:
    runbook: str
    title: str
    incident: dict[str, Any]
    findings: tuple[model.Finding, ...]
    """Most likely cause first, then inconclusive, then ruled out."""
    next: tuple[model.Finding, ...] = ()
    errors: tuple[CheckError, ...] = ()
    provenance: str = ""
    gaps: tuple[str, ...] = ()
    incident_title: str = ""
    """What people call the incident (incident.yaml's `title`), "" when nobody named it."""
    evidence_time: str = ""
    """When the evidence was taken (ISO 8601 UTC), and how that is known (`evidence_time_basis`)."""
    evidence_time_basis: str = ""
    version: str = __version__
    """The paramedic that made the diagnosis."""

    @property
    def causes(self) -> tuple[model.Finding, ...]:
        return tuple(f for f in self.findings if f.verdict is model.Verdict.CAUSE)

    @property
    def inconclusive(self) -> tuple[model.Finding, ...]:
        return tuple(f for f in self.findings if f.verdict is model.Verdict.INCONCLUSIVE)

    @property
    def upcoming(self) -> tuple[model.Finding, ...]:
        """What is likely to break next: the `next` checks that did not rule themselves out."""
        return tuple(f for f in self.next if f.verdict is not model.Verdict.RULED_OUT)

    def headline(self) -> str:
        """What was found, in one line; no cause is all clear only when every check decided."""
        if self.causes:
            n = len(self.causes)
            return f"{n} cause{'s' if n > 1 else ''} found — fix in this order"
        if self.errors:
            return f"No cause found, but {len(self.errors)} check(s) could not run"
        if self.inconclusive:
            names = ", ".join(f.check for f in self.inconclusive)
            return (
                f"No cause found, but {len(self.inconclusive)} check(s) lacked evidence to decide"
                f" ({names}: see what each is missing)"
            )
        return "No cause found in the evidence"

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "runbook": self.runbook,
            "title": self.title,
            "incident": dict(self.incident),
            "provenance": self.provenance,
            "findings": [f.as_dict() for f in self.findings],
            "next": [f.as_dict() for f in self.next],
            "errors": [e.as_dict() for e in self.errors],
            "gaps": list(self.gaps),
            "incident_title": self.incident_title,
            "evidence_time": self.evidence_time,
            "evidence_time_basis": self.evidence_time_basis,
            "paramedic_version": self.version,
        }
