"""What a check says: `Finding` and its parts, and the `Context` a check receives.

Stable ids live in data (`Finding.check`); text is for people. A finding cites the object or
log line each evidence line rests on, carries the exact fix as data (so remedies can plan it
without parsing prose), why the fix works, and how to verify it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve


class Verdict(enum.StrEnum):
    CAUSE = "cause"
    RULED_OUT = "ruled-out"
    INCONCLUSIVE = "inconclusive"
    WARNING = "warning"


class Confidence(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(enum.IntEnum):
    """What must be fixed first among several causes, lowest first: a cause that hides the others
    (nothing can connect until it is fixed) outranks one that only shows once traffic flows."""

    CLUSTER = 10
    """Breaks every client or keeps the client from starting: a CoreDNS crash loop, a missing
    Secret."""
    CLUSTER_SERVICE = 15
    """A cluster service every client needs is down for a reason a restart may clear: CoreDNS
    pods not ready."""
    PATH = 20
    """Closes the packet path: a NetworkPolicy, port 53 egress, no endpoints, the DB OOM-killed."""
    NAME = 25
    """The client asks for the wrong thing: a wrong host name or port."""
    EXTERNAL = 30
    """Outside the cluster or at the door: a firewall, a rejected credential (pg_hba, a Secret
    that changed after the pods started)."""
    CREDENTIAL = 35
    """The server rejects the password the client sends, with no change of Secret to explain it."""
    CAPACITY = 40
    """The path works but is full: connection slots, pods never ready."""
    SLOW = 45
    """The path works but is slow: CPU throttling."""
    DEFAULT = 50


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Cite:
    """One evidence line and what it rests on ('Pod data/profile-db-0', 'log app/x/app:42')."""

    text: str
    source: str = ""

    def __str__(self) -> str:
        return f"{self.text} [{self.source}]" if self.source else self.text


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FixStep:
    """One concrete action: a manifest to apply, SQL to run, or a command."""

    description: str
    language: str
    """'yaml' (a manifest or patch), 'sql', 'shell', or 'text' (advice that no tool can apply)."""
    content: str
    action: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Machine-readable form for remedies, e.g. {"op": "create", "object": {...}} or
    {"op": "patch", "target": "NetworkPolicy data/x", "patch": {...}} or
    {"op": "sql", "dsn_from": ...}."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "description": self.description,
            "language": self.language,
            "content": self.content,
        }
        if self.action:
            out["action"] = dict(self.action)
        return out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Fix:
    summary: str
    steps: tuple[FixStep, ...] = ()
    alternatives: tuple[str, ...] = ()
    """Other fixes worth knowing, ranked, one line each."""
    rollback: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": self.summary, "steps": [s.as_dict() for s in self.steps]}
        if self.alternatives:
            out["alternatives"] = list(self.alternatives)
        if self.rollback:
            out["rollback"] = self.rollback
        return out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Remedy:
    """What a fix builder returns: the fix, why it works, and how to verify it."""

    fix: Fix | None = None
    why: str = ""
    verify: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """What one check concluded. `check` and `title` are filled by the engine from the check's
    registration; a check leaves them empty. `remedy` sets `fix`, `why` and `verify` at once."""

    verdict: Verdict
    summary: str
    confidence: Confidence = Confidence.MEDIUM
    title: str = ""
    evidence: tuple[Cite, ...] = ()
    fix: Fix | None = None
    why: str = ""
    verify: str = ""
    missing: str = ""
    """For inconclusive findings: what evidence would decide, and the exact command to get it."""
    priority: Priority = Priority.DEFAULT
    """Among causes, lower is fixed first (see `Priority` for the scale the checks share)."""
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Check-specific structured data (e.g. the blast radius of a policy patch)."""
    check: str = ""
    remedy: dataclasses.InitVar[Remedy | None] = None

    def __post_init__(self, remedy: Remedy | None) -> None:
        if remedy is not None:
            object.__setattr__(self, "fix", remedy.fix)
            object.__setattr__(self, "why", remedy.why)
            object.__setattr__(self, "verify", remedy.verify)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "title": self.title,
            "verdict": str(self.verdict),
            "confidence": str(self.confidence),
            "summary": self.summary,
            "evidence": [str(c) for c in self.evidence],
            "citations": [{"text": c.text, "source": c.source} for c in self.evidence],
            "fix": self.fix.as_dict() if self.fix else None,
            "why": self.why,
            "verify": self.verify,
        }
        if self.missing:
            out["missing"] = self.missing
        if self.details:
            out["details"] = dict(self.details)
        return out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a check receives: all the evidence, the resolved incident, and earlier findings.

    `earlier` holds the findings of checks that ran before this one in the runbook (by id), so a
    check can build on another (dns uses what network-policy found about port 53) without I/O.
    """

    evidence: evidence_model.Evidence
    scope: resolve.Scope
    earlier: Mapping[str, Finding] = dataclasses.field(default_factory=dict)
