"""The immutable result of running a runbook: what every report renders (schema v1).

The JSON form is a contract (DESIGN.md §4): extend it, never rename.
"""

from __future__ import annotations

import dataclasses
from typing import Any

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

    @property
    def causes(self) -> tuple[model.Finding, ...]:
        return tuple(f for f in self.findings if f.verdict is model.Verdict.CAUSE)

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
        }
