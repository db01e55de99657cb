"""Parse a `kubectl get -o yaml` List a slice of its items at a time, sharing repeated strings.

A real dump is one v1 List of hundreds of thousands of items. Parsed whole, the YAML parser
holds the text, its own tree of it and the Python objects at once, and every key of every
object is a separate string: a 478 MB dump took 6.1 GB. kubectl prints the items at column 0
(`items:` then `- apiVersion: …` lines), so the items can be cut into slices of about
`CHUNK_BYTES` at lines starting with `- `; each slice is measured (`budget.check_depth`),
parsed, and rebuilt with one shared string per distinct key and short value before the next is
read. The node budget is counted on what is built, slice by slice, so a dense bomb stops at the
slice that crosses it. Anything not in that layout returns None and is parsed whole.
"""

from __future__ import annotations

from typing import Any

import re2
import yaml_rs

from paramedic import errors
from paramedic.evidence import budget

CHUNK_BYTES = 4 * 1024 * 1024
_SHARED_MAX = 48
"""Strings shorter than this are shared (names, kinds, labels); longer ones are rarely equal."""
_ITEMS = b"\nitems:\n- "
_END_OF_ITEMS = re2.compile(b"\\n(?:[^ \\t#\\n-]|-[^ \\t\\n])")
"""The first line after the items: at column 0, neither an item (`- `), a comment nor
indented."""


def parse(data: bytes, *, where: str, decode_error: Any) -> dict[str, Any] | None:
    """The List document with its `items`, or None when `data` is not a kubectl List layout.
    `decode_error(exc, where, line_offset)` turns a parser error into a BundleError."""
    start = data.find(_ITEMS)
    if start < 0:
        return None
    body = start + len(_ITEMS) - 2
    end = _END_OF_ITEMS.search(data, body)
    stop = end.start() + 1 if end is not None else len(data)
    own: Any
    try:
        own = yaml_rs.loads((data[: start + 1] + data[stop:]).decode("utf-8-sig"))
    except (yaml_rs.YAMLDecodeError, ValueError):
        return None  # not the layout this knows: the whole-file parser reports the error
    kind = own.get("kind") if isinstance(own, dict) else None
    if not isinstance(kind, str) or not kind.endswith("List") or "items" in own:
        return None
    shared: dict[str, str] = {}
    counter = [0]
    items: list[Any] = []
    pos = body
    while pos < stop:
        cut = data.find(b"\n- ", min(pos + CHUNK_BYTES, stop), stop)
        chunk_end = stop if cut < 0 else cut + 1
        chunk = data[pos:chunk_end]
        budget.check_depth(chunk, where=where)
        try:
            parsed = yaml_rs.loads(chunk.decode("utf-8"), parse_datetime=False)
        except UnicodeDecodeError as exc:
            raise errors.BundleError(f"{where}: not UTF-8 text (byte {pos + exc.start})") from exc
        except (yaml_rs.YAMLDecodeError, ValueError, TypeError, OverflowError) as exc:
            raise decode_error(exc, where, data.count(b"\n", 0, pos)) from exc
        if not isinstance(parsed, list):
            parsed = [parsed]
        try:
            items.extend(_shared(x, shared.setdefault, counter) for x in parsed)
        except RecursionError as exc:
            raise errors.BundleError(f"{where}: nested too deeply") from exc
        if counter[0] > budget.MAX_NODES:
            raise errors.BundleError(
                f"{where}: too many YAML/JSON nodes (over {budget.MAX_NODES:,})"
            )
        pos = chunk_end
    return {**own, "items": items}


def _shared(value: Any, share: Any, counter: list[int]) -> Any:
    """`value` rebuilt with one string object per distinct key and short string; counts nodes."""
    kind = type(value)
    if kind is dict:
        counter[0] += len(value)
        return {share(k, k): _shared(v, share, counter) for k, v in value.items()}
    if kind is list:
        counter[0] += len(value)
        return [_shared(v, share, counter) for v in value]
    if kind is str and len(value) < _SHARED_MAX:
        return share(value, value)
    return value
