"""Linear-time log scanning: many patterns, one pass over the text, lines of bounded length.

Logs are hostile input (an application echoes whatever a client sends), so no pattern that runs
over them may backtrack. Every log pattern — error signatures, the credentials redaction masks,
the database lines the checks look for — is compiled here with RE2 (`google-re2`), whose
matching time is linear in the text whatever the pattern, and with `never_nl`, so no match ever
crosses a line. A `PatternSet` finds the lines any of its patterns match in one search over the
whole log (RE2's DFA runs over the bytes; Python only touches the lines that match), then asks
an RE2 `Set` which patterns match each such line. docs/PERFORMANCE.md has the numbers that
chose RE2 over the alternatives.

Lines are capped at `MAX_LINE_CHARS` when a log enters the evidence (`lines`): the head of a
longer line is kept up to its last space (so no cut-off half of a credential survives) and
marked with `CUT_MARK`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import re2

MAX_LINE_CHARS = 4096
"""Longest log line kept whole; the rest of a longer line is dropped (`cap`)."""
CUT_MARK = " …[line cut: {size} characters]"
_DENSE = 16
"""Matches in one line of this many or more: ask the set about every line (`scan`)."""
_KEEP_WORD = 256
"""A cut keeps the head up to its last space when one is this close to the cap."""


def options(*, ignore_case: bool) -> re2.Options:
    """RE2 options of every log pattern: UTF-8, no match across a line break."""
    opts = re2.Options()
    opts.never_nl = True
    opts.case_sensitive = not ignore_case
    opts.log_errors = False
    return opts


def compile(pattern: str, *, ignore_case: bool = False) -> Any:
    """One linear-time pattern; ValueError (naming the pattern) when RE2 cannot compile it
    (RE2 has no backreferences or lookaround)."""
    try:
        return re2.compile(pattern, options(ignore_case=ignore_case))
    except re2.error as exc:
        raise ValueError(f"pattern {pattern!r} is not linear-time RE2 syntax ({exc})") from exc


def cap(line: str) -> str:
    """`line`, or for a line over MAX_LINE_CHARS its head and a mark saying how long it was."""
    if len(line) <= MAX_LINE_CHARS:
        return line
    head = line[:MAX_LINE_CHARS]
    space = head.rfind(" ")
    head = head[:space] if space >= MAX_LINE_CHARS - _KEEP_WORD else ""
    return head + CUT_MARK.format(size=len(line))


def lines(text: str) -> list[str]:
    """The lines of a log, each capped (`cap`)."""
    return [cap(line) if len(line) > MAX_LINE_CHARS else line for line in text.splitlines()]


class PatternSet:
    """Patterns matched together: which lines of a log match any, and which ones each matches."""

    __slots__ = ("_any", "_set", "size")

    def __init__(self, patterns: Sequence[str], *, ignore_case: bool = True) -> None:
        opts = options(ignore_case=ignore_case)
        self.size = len(patterns)
        for pattern in patterns:
            compile(pattern, ignore_case=ignore_case)  # one error naming the bad pattern
        union = "|".join(f"(?:{p})" for p in patterns) or "$^"
        self._any = re2.compile(union.encode("utf-8"), opts)
        self._set = re2.Set.SearchSet(opts)
        for pattern in patterns:
            self._set.Add(pattern.encode("utf-8"))
        self._set.Compile()

    def which(self, line: str) -> tuple[int, ...]:
        """Indexes (ascending) of the patterns that match `line`."""
        return tuple(sorted(self._set.Match(line.encode("utf-8")) or ()))

    def scan(self, log: Sequence[str]) -> dict[int, tuple[int, ...]]:
        """{0-based line index: indexes of the patterns it matches} for every matching line.

        One search over the whole log jumps from matching line to matching line; where matches
        are dense (one line in `_DENSE` or more) asking the set about every line is cheaper,
        and the rest of the log is scanned that way."""
        if not log or not self.size:
            return {}
        data = "\n".join(log).encode("utf-8", errors="surrogatepass")
        found: dict[int, tuple[int, ...]] = {}
        line_no, line_start, pos = 0, 0, 0
        while pos <= len(data):
            if len(found) > _DENSE and len(found) * _DENSE > line_no:
                found.update(self._each_line(data, line_no, pos))
                break
            match = self._any.search(data, pos)
            if match is None:
                break
            start = match.start()
            line_no += data.count(b"\n", line_start, start)
            line_start = data.rfind(b"\n", 0, start) + 1
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            hits = self._set.Match(data[line_start:end])
            if hits:
                found[line_no] = tuple(sorted(hits))
            line_no, line_start, pos = line_no + 1, end + 1, end + 1
        return found

    def _each_line(self, data: bytes, first: int, pos: int) -> dict[int, tuple[int, ...]]:
        match = self._set.Match
        found = {}
        for index, line in enumerate(data[pos:].split(b"\n"), start=first):
            hits = match(line)
            if hits:
                found[index] = tuple(sorted(hits))
        return found

    def lines_hit(self, log: Sequence[str]) -> list[int]:
        """0-based indexes of the lines any pattern matches."""
        return sorted(self.scan(log))
