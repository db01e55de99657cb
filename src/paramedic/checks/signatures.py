"""Error signatures: recognise client and server error texts and say what they mean.

The table itself is data (`signatures.yaml`, next to this module): libpq/psycopg, JDBC, Go pgx
and lib/pq, Node pg, SQLAlchemy and HikariCP pool errors, PostgreSQL server log lines, resolver
texts (glibc, musl, Go, Java, Node, nslookup), CoreDNS error and loop lines, and kubelet probe
events, each mapped to a meaning id such as `too-many-connections` or `dns-nxdomain`.

This is a helper for checks, not a check: `scan(lines)` returns one `Match` per recognised line
(the first signature in table order wins, so the table lists specific texts first).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources

import yaml

SCHEMA = "paramedic.signatures/v1"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    id: str
    meaning: str
    source: str
    pattern: re.Pattern[str]
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


@functools.cache
def table() -> Table:
    """The shipped signature table (parsed once)."""
    text = (resources.files("paramedic.checks") / "signatures.yaml").read_text(encoding="utf-8")
    return parse(text)


def parse(text: str) -> Table:
    """A Table from signatures.yaml text; ValueError names the first bad entry."""
    doc = yaml.load(text, Loader=yaml.CSafeLoader)
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
            pattern = re.compile(str(raw["pattern"]), re.IGNORECASE)
        except (KeyError, re.error) as exc:
            raise ValueError(f"signature {sig_id}: bad pattern ({exc})") from exc
        seen.add(sig_id)
        found.append(
            Signature(
                id=sig_id,
                meaning=meaning,
                source=str(raw.get("source", "")),
                pattern=pattern,
                examples=tuple(str(e) for e in raw.get("examples") or ()),
            )
        )
    return Table(meanings=meanings, signatures=tuple(found))


def classify(line: str) -> Signature | None:
    """The first signature that matches `line`, if any."""
    for signature in table().signatures:
        if signature.pattern.search(line):
            return signature
    return None


def scan(lines: Iterable[str]) -> list[Match]:
    """One Match for every line that a signature recognises, in input order."""
    matches = []
    for line_no, line in enumerate(lines, start=1):
        signature = classify(line)
        if signature is not None:
            matches.append(
                Match(
                    meaning=signature.meaning, line_no=line_no, line=line, signature_id=signature.id
                )
            )
    return matches


def describe(meaning: str) -> str:
    """What a meaning id says, in one sentence ('' for an unknown id)."""
    return table().meanings.get(meaning, "")


def meanings() -> tuple[str, ...]:
    return tuple(table().meanings)
