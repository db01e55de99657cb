"""Error signatures: recognise client and server error texts and say what they mean.

The table itself is data (`signatures.yaml`, next to this module): libpq/psycopg, JDBC, Go pgx
and lib/pq, Node pg, SQLAlchemy and HikariCP pool errors, PostgreSQL server log lines, resolver
texts (glibc, musl, Go, Java, Node, nslookup), CoreDNS error and loop lines, and kubelet probe
events, each mapped to a meaning id such as `too-many-connections` or `dns-nxdomain`.

This is a helper for checks, not a check: `scan(lines)` returns one `Match` per recognised line
(the first signature in table order wins, so the table lists specific texts first). Patterns are
RE2 (`evidence.logscan`): linear time on any line, matched together in one pass.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from paramedic.evidence import logscan, yamltext

SCHEMA = "paramedic.signatures/v1"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    id: str
    meaning: str
    source: str
    pattern: Any
    """The compiled RE2 pattern (case-insensitive): `.search(line)`."""
    source_pattern: str
    """The pattern as written in the table."""
    examples: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    meaning: str
    line_no: int
    """1-based position of the line in what was scanned."""
    line: str
    signature_id: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    meanings: Mapping[str, str]
    signatures: tuple[Signature, ...]
    together: logscan.PatternSet
    """Every signature's pattern, in table order, matched in one pass."""


@functools.cache
def table() -> Table:
    """The shipped signature table (parsed once)."""
    text = (resources.files("paramedic.checks") / "signatures.yaml").read_text(encoding="utf-8")
    return parse(text)


def parse(text: str) -> Table:
    """A Table from signatures.yaml text; ValueError names the first bad entry."""
    doc = yamltext.load(text)  # NotYaml is a ValueError, as the docstring says
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"signatures: expected schema {SCHEMA!r}")
    meanings = {str(k): " ".join(str(v).split()) for k, v in (doc.get("meanings") or {}).items()}
    found: list[Signature] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc.get("signatures") or []):
        if not isinstance(raw, dict):
            raise ValueError(f"signatures[{i}]: expected a mapping with id, meaning and pattern")
        sig_id = str(raw.get("id", ""))
        meaning = str(raw.get("meaning", ""))
        if not sig_id or sig_id in seen:
            raise ValueError(f"signatures[{i}]: missing or duplicate id {sig_id!r}")
        if meaning not in meanings:
            raise ValueError(f"signature {sig_id}: unknown meaning {meaning!r}")
        try:
            pattern = logscan.compile(str(raw["pattern"]), ignore_case=True)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"signature {sig_id}: bad pattern ({exc})") from exc
        seen.add(sig_id)
        found.append(
            Signature(
                id=sig_id,
                meaning=meaning,
                source=str(raw.get("source", "")),
                pattern=pattern,
                source_pattern=str(raw["pattern"]),
                examples=tuple(str(e) for e in raw.get("examples") or ()),
            )
        )
    together = logscan.PatternSet([s.source_pattern for s in found], ignore_case=True)
    return Table(meanings=meanings, signatures=tuple(found), together=together)


def classify(line: str) -> Signature | None:
    """The first signature that matches `line`, if any."""
    shipped = table()
    hits = shipped.together.which(line)
    return shipped.signatures[hits[0]] if hits else None


def scan(lines: Iterable[str]) -> list[Match]:
    """One Match for every line that a signature recognises, in input order."""
    shipped = table()
    log = list(lines)
    matches = []
    for index, hits in sorted(shipped.together.scan(log).items()):
        signature = shipped.signatures[hits[0]]
        matches.append(
            Match(
                meaning=signature.meaning,
                line_no=index + 1,
                line=log[index],
                signature_id=signature.id,
            )
        )
    return matches


def describe(meaning: str) -> str:
    """What a meaning id says, in one sentence ('' for an unknown id)."""
    return table().meanings.get(meaning, "")


def meanings() -> tuple[str, ...]:
    return tuple(table().meanings)
