"""Every log line scanned once, for every pattern any check looks for.

The error signatures (`signatures.yaml`) and the few line patterns checks declare with
`line_pattern` (the database's out-of-memory and recovery lines, slow statements, database
words) are compiled into one `evidence.logscan.PatternSet`: one linear-time pass over a log
finds every line any of them matches and which ones. The result is kept per evidence, so the
four checks that read the same pod's log ask this index instead of rescanning it
(docs/PERFORMANCE.md, "Log scanning"). Not a check: a helper of `clues` and the checks.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Mapping

from paramedic.checks import signatures
from paramedic.evidence import logscan
from paramedic.evidence import model as evidence_model

_PATTERNS: dict[str, str] = {}
"""name -> RE2 pattern (case-insensitive) of the line patterns checks declared."""


def line_pattern(name: str, pattern: str) -> str:
    """Declare a pattern (at import time) that `Hits.names` will report as `name`."""
    logscan.compile(pattern, ignore_case=True)  # a bad pattern fails at import, by name
    _PATTERNS[name] = pattern
    return name


@dataclasses.dataclass(frozen=True, slots=True)
class Line:
    """What matched one log line."""

    signature: signatures.Signature | None
    """The first signature in table order that matches, if any."""
    names: frozenset[str]
    """The declared line patterns that match."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Engine:
    patterns: logscan.PatternSet
    table: tuple[signatures.Signature, ...]
    names: tuple[str, ...]


@functools.cache
def _engine(declared: tuple[tuple[str, str], ...]) -> _Engine:
    table = signatures.table().signatures
    source = [s.source_pattern for s in table] + [p for _, p in declared]
    return _Engine(
        patterns=logscan.PatternSet(source, ignore_case=True),
        table=table,
        names=tuple(n for n, _ in declared),
    )


class _Index:
    """The hits of one evidence's logs, computed per log on first use."""

    def __init__(self, evidence: evidence_model.Evidence) -> None:
        self._evidence = evidence
        self._engine = _engine(tuple(sorted(_PATTERNS.items())))
        self._logs: dict[evidence_model.LogKey, Mapping[int, Line]] = {}
        self._lock = threading.Lock()

    def lines(self, key: evidence_model.LogKey) -> Mapping[int, Line]:
        with self._lock:
            found = self._logs.get(key)
            if found is None:
                found = self._logs[key] = self._scan(self._evidence.logs.get(key, ()))
            return found

    def _scan(self, log: tuple[str, ...]) -> Mapping[int, Line]:
        engine = self._engine
        size = len(engine.table)
        out: dict[int, Line] = {}
        for index, hits in engine.patterns.scan(log).items():
            first = next((engine.table[i] for i in hits if i < size), None)
            names = frozenset(engine.names[i - size] for i in hits if i >= size)
            out[index] = Line(signature=first, names=names)
        return out


_MEMO: dict[int, tuple[evidence_model.Evidence, _Index]] = {}
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 4


def hits(evidence: evidence_model.Evidence, key: evidence_model.LogKey) -> Mapping[int, Line]:
    """{0-based line index: what matched} for the lines of one log that anything matches."""
    with _MEMO_LOCK:
        entry = _MEMO.get(id(evidence))
        if entry is None or entry[0] is not evidence:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.pop(next(iter(_MEMO)))
            entry = _MEMO[id(evidence)] = (evidence, _Index(evidence))
    return entry[1].lines(key)


def pod_hits(
    evidence: evidence_model.Evidence, namespace: str, pod: str
) -> dict[str, tuple[tuple[str, ...], Mapping[int, Line]]]:
    """Per container of one pod (previous runs included): (its lines, their hits)."""
    return {
        container: (lines, hits(evidence, (namespace, pod, container)))
        for container, lines in evidence.pod_logs(namespace, pod).items()
    }
