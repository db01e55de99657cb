"""Parse a `kubectl get -o yaml` List a slice of its items at a time, sharing repeated strings.

A real dump is one v1 List of hundreds of thousands of items. Parsed whole, the YAML parser
holds the text, its own tree of it and the Python objects at once, and every key of every
object is a separate string: a 478 MB dump took 6.1 GB. kubectl prints the items at column 0
(`items:` then `- apiVersion: …` lines), so the items can be cut into slices of about
`CHUNK_BYTES` at lines starting with `- `; each slice is measured (`budget.check_depth`),
parsed, and rebuilt with one shared string per distinct key and short value before the next is
read. The node budget is estimated on each slice's text before it is parsed (`budget.nodes`),
so a dense bomb stops at the slice that crosses it, before that slice is built. Anything not in
that layout returns None and is parsed whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import re2
import yaml_rs

from paramedic import errors
from paramedic.evidence import budget, parallel, selection

CHUNK_BYTES = 4 * 1024 * 1024
PARALLEL_BYTES = 64 * 1024 * 1024
"""Items of at least this size are parsed by worker processes (`parallel`), smaller ones here."""
_SHARED_MAX = 48
"""Strings shorter than this are shared (names, kinds, labels); longer ones are rarely equal."""
_ITEMS = b"\nitems:\n- "
_END_OF_ITEMS = re2.compile(b"\\n(?:[^ \\t#\\n-]|-[^ \\t\\n])")
"""The first line after the items: at column 0, neither an item (`- `), a comment nor
indented."""
_ALIAS = re2.compile(b"(?:^|[\\s\\[{,])\\*[^\\s,\\]}]")
"""A YAML alias (`*name`), which kubectl never prints; conservative (a `*` after a blank in a
block scalar counts too): it only makes a slice be counted as built."""


def parse(
    data: bytes, *, where: str, decode_error: Any, select: selection.Selection | None = None
) -> dict[str, Any] | None:
    """The List document with its `items`, or None when `data` is not a kubectl List layout.
    `decode_error(exc, where, line_offset)` turns a parser error into a BundleError. With
    `select`, items of a List of PARALLEL_BYTES or more that it does not keep are not parsed."""
    start = data.find(_ITEMS)
    if start < 0:
        return None
    body = start + len(_ITEMS) - 2
    end = _END_OF_ITEMS.search(data, body)
    stop = end.start() + 1 if end is not None else len(data)
    own: Any
    try:
        own = yaml_rs.loads(
            (data[: start + 1] + data[stop:]).decode("utf-8-sig"), parse_datetime=False
        )
    except (yaml_rs.YAMLDecodeError, ValueError):
        return None  # not the layout this knows: the whole-file parser reports the error
    kind = own.get("kind") if isinstance(own, dict) else None
    if not isinstance(kind, str) or not kind.endswith("List") or "items" in own:
        return None
    if select is not None and stop - body >= PARALLEL_BYTES:
        runs, numbers = select.runs(data, body, stop)
        items = _items(data, [s for run in runs for s in _spans(data, *run)], where, decode_error)
        if len(items) == len(numbers):
            return {**own, "items": Items(items, numbers)}
        # the items were not cut as the scan cut them (not kubectl's layout): read them all
    return {**own, "items": _items(data, list(_spans(data, body, stop)), where, decode_error)}


class Items(list[Any]):
    """The items of a List read in part (evidence/selection.py), with the number each has in
    the file's List (`numbers`), so that a message names the item the file holds there."""

    def __init__(self, items: list[Any], numbers: list[int]) -> None:
        super().__init__(items)
        self.numbers = numbers


def _items(data: bytes, spans: list[tuple[int, int]], where: str, decode_error: Any) -> list[Any]:
    if sum(end - pos for pos, end in spans) >= PARALLEL_BYTES and parallel.available():
        return _in_workers(data, spans, where, decode_error)
    return _in_process(data, spans, where, decode_error)


class Sharing:
    """Rebuilds parsed values with one string object per distinct key and short string value.

    Two functions, one per container type, and scalars handled in the loop rather than by a
    call each: this walk visits every node of the dump (~20 million in 478 MB), and a call per
    node was a third of the load's CPU time."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}

    def mapping(self, value: dict[str, Any]) -> dict[str, Any]:
        share = self._strings.setdefault
        out = {}
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                if len(item) < _SHARED_MAX:
                    item = share(item, item)
            elif kind is dict:
                item = self.mapping(item)
            elif kind is list:
                item = self.sequence(item)
            out[share(key, key)] = item
        return out

    def sequence(self, value: list[Any]) -> list[Any]:
        share = self._strings.setdefault
        out = []
        for item in value:
            kind = type(item)
            if kind is str:
                if len(item) < _SHARED_MAX:
                    item = share(item, item)
            elif kind is dict:
                item = self.mapping(item)
            elif kind is list:
                item = self.sequence(item)
            out.append(item)
        return out


def _spans(data: bytes, body: int, stop: int) -> Iterator[tuple[int, int]]:
    """(start, end) of slices of about CHUNK_BYTES of the items, each cut before a `- ` line."""
    pos = body
    while pos < stop:
        cut = data.find(b"\n- ", min(pos + CHUNK_BYTES, stop), stop)
        end = stop if cut < 0 else cut + 1
        yield pos, end
        pos = end


def _in_process(
    data: bytes, spans: list[tuple[int, int]], where: str, decode_error: Any
) -> list[Any]:
    """The items, slice after slice; the node budget is checked before each slice is parsed."""
    share = Sharing()
    items: list[Any] = []
    nodes = 0
    for pos, end in spans:
        nodes += budget.nodes(data, pos, end)
        _over_budget(nodes, where)
        built, extra = _slice(data, pos, end, where, decode_error, share)
        nodes += extra
        _over_budget(nodes, where)
        items += built
    return items


def _in_workers(
    data: bytes, spans: list[tuple[int, int]], where: str, decode_error: Any
) -> list[Any]:
    """The items, parsed and shared by `parallel.WORKERS` processes a slice each (a 478 MB dump
    spends nine tenths of its load there); the node budget of the whole text is checked while
    they start, and no result is kept past it."""
    items: list[Any] = []
    with parallel.pool(_slice_in_worker, (data, where, decode_error)) as run:
        results = run(spans)
        nodes = sum(budget.nodes(data, pos, end) for pos, end in spans)
        _over_budget(nodes, where)
        for built, extra in results:
            nodes += extra
            _over_budget(nodes, where)
            items += built
    return items


def _slice_in_worker(
    shared: tuple[bytes, str, Any], span: tuple[int, int]
) -> tuple[list[Any], int]:
    data, where, decode_error = shared
    return _slice(data, span[0], span[1], where, decode_error, parallel.state(Sharing))


def _slice(
    data: bytes, pos: int, end: int, where: str, decode_error: Any, share: Sharing
) -> tuple[list[Any], int]:
    """One slice's items, and the nodes its aliases add beyond its text's estimate."""
    chunk = data[pos:end]
    budget.check_depth(chunk, where=where)
    try:
        parsed = yaml_rs.loads(chunk.decode("utf-8"), parse_datetime=False)
    except UnicodeDecodeError as exc:
        raise errors.BundleError(f"{where}: not UTF-8 text (byte {pos + exc.start})") from exc
    except (yaml_rs.YAMLDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise decode_error(exc, where, data.count(b"\n", 0, pos)) from exc
    try:
        built = share.sequence(parsed if isinstance(parsed, list) else [parsed])
        # the text under-counts what aliases repeat: such a slice is counted as built
        extra = _count(built) - budget.nodes(chunk) if _ALIAS.search(chunk) else 0
    except RecursionError as exc:
        raise errors.BundleError(f"{where}: nested too deeply") from exc
    return built, extra


def _over_budget(nodes: int, where: str) -> None:
    if nodes > budget.MAX_NODES:
        raise errors.BundleError(f"{where}: too many YAML/JSON nodes (over {budget.MAX_NODES:,})")


def _count(value: Any) -> int:
    """Nodes in a built value (entries of every mapping and sequence)."""
    if type(value) is dict:
        return len(value) + sum(_count(v) for v in value.values())
    if type(value) is list:
        return len(value) + sum(_count(v) for v in value)
    return 0
