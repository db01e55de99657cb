"""Decode the text files of a bundle: Kubernetes objects from YAML or JSON (Lists flattened, every
object checked for the fields the checks rely on, Secret values digested), and single JSON
documents. Every problem is one `BundleError` line naming the file, and the line where the
parser knows it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml_rs

from paramedic import errors
from paramedic.evidence import budget, model, redact, selection, yaml_list

_DOC_MARKER = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)
_YAML_ERROR_AT = re.compile(r"at line (\d+), column \d+")
_MAX_DIGITS = 4300
"""Python's own limit for turning digits into an int (CVE-2020-10735): no Kubernetes value is
anywhere near it, and a longer number would fail wherever it is printed."""
_ALL_DIGITS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_CHUNK = 16 * 1024 * 1024


class _DuplicateKey(ValueError):
    """A JSON object names the same key twice (raised inside json.loads)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice, as YAML does (json keeps the last)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _json(text: str, *, where: str) -> Any:
    """One JSON document; a duplicate key or an over-long number is one BundleError line."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError:
        raise
    except _DuplicateKey as exc:
        raise errors.BundleError(f"{where}: duplicate key {_shown(exc.key)}") from exc
    except ValueError as exc:  # int() refused a number of more than 4300 digits
        line = _huge_number_line(text.encode("utf-8"))
        raise errors.BundleError(
            f"{where}: line {line}: a number of more than {_MAX_DIGITS} digits"
            if line
            else f"{where}: invalid JSON ({exc})"
        ) from exc


def _huge_number_line(data: bytes) -> int | None:
    """The line of the first run of more than 4300 digits, in linear time and bounded memory."""
    needle = b"0" * (_MAX_DIGITS + 1)
    start = 0
    while start < len(data):
        chunk = data[start : start + _CHUNK + len(needle)].translate(_ALL_DIGITS_ZERO)
        found = chunk.find(needle)
        if found >= 0:
            return data.count(b"\n", 0, start + found) + 1
        start += _CHUNK
    return None


def _shown(key: str) -> str:
    return repr(key if len(key) <= 80 else key[:77] + "...")


def parse_objects(
    data: bytes,
    *,
    where: str,
    ignored: list[str] | None = None,
    select: selection.Selection | None = None,
) -> list[model.KubeObject]:
    """Kubernetes objects from YAML (multi-document) or JSON text, Lists flattened.

    Secret values are replaced by digests here, before anything else can see them. An object of
    a kind no check reads that is shaped too oddly to index is left out, with one line saying so
    appended to `ignored`; an odd object of a kind the checks read is a BundleError.
    """
    docs = decode(data, where=where, select=select)
    notes = ignored if ignored is not None else []
    objects: list[model.KubeObject] = []
    for doc_no, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        objects.extend(_flatten(doc, where=f"{where}: document {doc_no}", ignored=notes))
    return redact.objects(objects)


def decode(data: bytes, *, where: str, select: selection.Selection | None = None) -> list[Any]:
    """Every document of a YAML stream, or the one JSON document (a .json file must be JSON).
    The text is measured against the parse budget first (`budget.check`); a kubectl List is
    parsed a slice at a time (`yaml_list`), only the items `select` keeps when it is big."""
    looks_json = where.endswith(".json") or data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(
        (b"{", b"[")
    )
    if not looks_json:
        listed = yaml_list.parse(data, where=where, decode_error=_yaml_error, select=select)
        if listed is not None:
            return [listed]
    budget.check(data, where=where, json=looks_json)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.BundleError(f"{where}: not UTF-8 text (byte {exc.start})") from exc
    stripped = text.lstrip()
    if where.endswith(".json") or stripped.startswith(("{", "[")):
        try:
            return [_json(text, where=where)] if stripped else []
        except json.JSONDecodeError as exc:
            if where.endswith(".json"):
                raise errors.BundleError(
                    f"{where}: line {exc.lineno}: invalid JSON: {exc.msg}"
                ) from exc
        except RecursionError as exc:
            raise errors.BundleError(
                f"{where}: nested too deeply to be Kubernetes objects"
            ) from exc
    return _yaml_documents(text, where=where)


def _yaml_documents(text: str, *, where: str) -> list[Any]:
    """Every document of a YAML stream, parsed by yaml-rs (Rust): ~15x faster than PyYAML's
    C loader on a 50,000-object dump, whose constructor runs in Python. Timestamps stay strings,
    as the API returns them."""
    huge = _huge_number_line(text.encode("utf-8"))
    if huge is not None:  # yaml-rs makes it an int that fails wherever it is printed
        raise errors.BundleError(
            f"{where}: line {huge}: a number of more than {_MAX_DIGITS} digits"
        )
    try:
        result = yaml_rs.loads(text, parse_datetime=False)
    except (yaml_rs.YAMLDecodeError, ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise _yaml_error(exc, where, 0) from exc
    # yaml-rs returns one value for a one-document stream and a list for several: count the
    # document markers to tell a multi-document stream from a single document that is a list.
    if not isinstance(result, list):
        return [result]
    markers = _DOC_MARKER.findall(text)
    first = _DOC_MARKER.search(text)
    before = text[: first.start()] if first else text
    leading = any(
        line.strip() and not line.lstrip().startswith("#") for line in before.splitlines()
    )
    documents = len(markers) + (1 if leading else 0)
    return result if documents >= 2 else [result]


def _yaml_error(exc: Exception, where: str, line_offset: int) -> errors.BundleError:
    """One line for a YAML parser error; `line_offset` lines precede the text it parsed."""
    if not isinstance(exc, yaml_rs.YAMLDecodeError):
        return errors.BundleError(f"{where}: invalid YAML: {exc}")
    message = str(exc).strip().splitlines()
    found = _YAML_ERROR_AT.search(message[0]) if message else None
    line = f"line {int(found.group(1)) + line_offset}: " if found else ""
    problem = message[-1].strip() if message else "invalid YAML"
    return errors.BundleError(f"{where}: {line}invalid YAML: {problem}")


def decode_json(data: bytes, *, where: str) -> Any:
    """The one JSON document of a file such as probes.json."""
    budget.check(data, where=where, json=True)
    try:
        return _json(data.decode("utf-8-sig"), where=where)
    except UnicodeDecodeError as exc:
        raise errors.BundleError(f"{where}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise errors.BundleError(f"{where}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise errors.BundleError(f"{where}: nested too deeply") from exc


def _flatten(
    doc: Any, *, where: str, ignored: list[str], in_list: bool = False
) -> Iterator[model.KubeObject]:
    if not isinstance(doc, dict):
        raise errors.BundleError(f"{where}: expected a Kubernetes object, got {_type_name(doc)}")
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        if not isinstance(items, list):
            raise errors.BundleError(f"{where}: {kind}.items must be a list")
        item_kind = kind[: -len("List")] if kind != "List" else None
        numbers = items.numbers if isinstance(items, yaml_list.Items) else range(len(items))
        for i, item in zip(numbers, items, strict=True):
            if not isinstance(item, dict):
                ignored.append(f"ignored {where}, item {i}: {_type_name(item)}, not an object")
                continue
            if item_kind and "kind" not in item:
                # Raw API lists (PodList, PodMetricsList) leave kind/apiVersion off their items.
                item = {"apiVersion": doc.get("apiVersion"), "kind": item_kind, **item}
            yield from _flatten(item, where=f"{where}, item {i}", ignored=ignored, in_list=True)
        return
    problem = _problem(doc)
    if problem is None:
        yield doc
    elif _is_read(doc) or not (in_list or problem.endswith("must be a mapping")):
        # A document that is no object at all, or a kind the checks read: the file is wrong.
        raise errors.BundleError(f"{where}: {problem}")
    else:
        ignored.append(f"ignored {where}: {problem}, which no check reads")


READ_KINDS = frozenset(
    {
        *("Pod", "Service", "Endpoints", "EndpointSlice", "Namespace", "Node", "Event"),
        *("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"),
        *("ConfigMap", "Secret", "NetworkPolicy", "PodMetrics", "NodeMetrics"),
        *("AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"),
        *("GlobalNetworkPolicy", "StagedNetworkPolicy", "Tier", "NetworkSet", "GlobalNetworkSet"),
        *("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "CiliumCIDRGroup"),
        *("AuthorizationPolicy", "PeerAuthentication"),
    }
)
"""Kinds some check or the policy engine reads: their shape is checked strictly. Any other kind
(a `Status`, a custom resource whose `status` is a string) is kept as it is and never read, or
left out with a note when it cannot even be indexed (metadata that is not a mapping)."""


def _is_read(obj: dict[str, Any]) -> bool:
    kind = obj.get("kind")
    return isinstance(kind, str) and kind in READ_KINDS


def _problem(obj: dict[str, Any]) -> str | None:
    """What makes `obj` unusable as the checks read it, or None."""
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if not isinstance(value, str) or not value:
            return f"object without {field!r}"
    kind = obj["kind"]
    meta = obj.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        return f"{kind}.metadata must be a mapping"
    if isinstance(meta, dict):
        for field in ("name", "namespace"):
            if field in meta and not isinstance(meta[field], str):
                return f"{kind}.metadata.{field} must be a string"
        labels = meta.get("labels")
        if labels is not None and not isinstance(labels, dict) and _is_read(obj):
            return f"{kind}.metadata.labels must be a mapping"
    if _is_read(obj):
        for field in ("spec", "status"):
            if field in obj and obj[field] is not None and not isinstance(obj[field], dict):
                return f"{kind}.{field} must be a mapping"
    return None


def _type_name(value: Any) -> str:
    return {
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
    }.get(type(value), type(value).__name__)
