"""The parse budget: what a YAML or JSON file may hold before a parser is let near it.

A parser's memory and stack grow with what the text describes, not with its size: 24 KB of
block-style nesting (`- - - … x`, 12,000 levels) overflows the YAML parser's stack and kills the
process; 1 GB of `[],` builds hundreds of millions of Python objects. So each file is measured
first, by scans that run in linear time at memory speed and allocate nothing, and refused with
one `BundleError` line naming the file when it is over budget (docs/BUNDLE.md lists the limits):

- **nesting**: a block collection nested N deep needs a line whose indentation plus compact
  indicators (`- `, `? `, `: `) reach column N/2 or more, so no line may start with
  `MAX_INDENT_COLUMNS` characters of blanks and indicators (YAML forbids tabs in indentation;
  they are counted anyway). Flow style (`[[[`) is capped at 255 levels by the YAML parser and
  at Python's recursion limit by the JSON one; both refuse, neither crashes.
- **nodes**: every YAML or JSON node but the innermost of a flow run starts a new line or follows
  a `,`, `[` or `{`, so lines + commas + brackets bound the node count; over `MAX_NODES` is
  refused before any object is built.
"""

from __future__ import annotations

import re2

from paramedic import errors

MAX_INDENT_COLUMNS = 1000
"""Longest run of indentation and compact indicators at the start of a line (nesting ≤ ~2,000,
well inside what the parsers survive; Kubernetes objects nest about 20 deep)."""
MAX_NODES = 24_000_000
"""Most nodes (scalars, mappings, sequences) one file may describe: a 478 MB `kubectl get -A -o
yaml` dump of 328,000 objects holds about 20 million (estimated: 17.7 million). Estimated
before parsing: a kubectl List slice by slice (`yaml_list`), JSON whole."""
MAX_WHOLE_YAML_NODES = 10_000_000
"""The estimate for YAML parsed whole (not a kubectl List): the parser's own tree doubles the
memory of what it builds, so the budget is smaller."""

_DEEP_LINE = re2.compile(b"\\n[ \\t?:-]{%d}" % MAX_INDENT_COLUMNS)
_DEEP_START = re2.compile(b"[ \\t?:-]{%d}" % MAX_INDENT_COLUMNS)


def check(data: bytes, *, where: str, json: bool = False) -> None:
    """Refuse `data` (the bytes of a YAML or JSON file) when it is over the parse budget."""
    check_depth(data, where=where)
    _check_nodes(data, where=where, limit=MAX_NODES if json else MAX_WHOLE_YAML_NODES)


def check_depth(data: bytes, *, where: str) -> None:
    """The nesting half of `check` (for a slice of a file whose nodes are counted as built)."""
    if _DEEP_START.match(data[: MAX_INDENT_COLUMNS + 4].lstrip(b"\xef\xbb\xbf")) or (
        _DEEP_LINE.search(data)
    ):
        raise errors.BundleError(
            f"{where}: nested too deeply (a line indented over {MAX_INDENT_COLUMNS} columns)"
        )


def nodes(data: bytes, start: int = 0, end: int | None = None) -> int:
    """The node estimate of `data[start:end]` (counted in place, never copied): lines + commas
    + opening brackets (see the module doc)."""
    stop = len(data) if end is None else end
    return sum(data.count(mark, start, stop) for mark in (b"\n", b",", b"[", b"{"))


def _check_nodes(data: bytes, *, where: str, limit: int) -> None:
    found = nodes(data)
    if found > limit:
        raise errors.BundleError(
            f"{where}: too many YAML/JSON nodes (about {found:,}; the limit is {limit:,})"
        )
