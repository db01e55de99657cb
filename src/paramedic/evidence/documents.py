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
from paramedic.evidence import budget, model, redact, yaml_list

_DOC_MARKER = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)
_YAML_ERROR_AT = re.compile(r"at line (\d+), column \d+")


def parse_objects(data: bytes, *, where: str) -> list[model.KubeObject]:
    """Kubernetes objects from YAML (multi-document) or JSON text, Lists flattened.

    Secret values are replaced by digests here, before anything else can see them.
    """
    docs = decode(data, where=where)
    objects: list[model.KubeObject] = []
    for doc_no, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        objects.extend(_flatten(doc, where=f"{where}: document {doc_no}"))
    return redact.objects(objects)


def decode(data: bytes, *, where: str) -> list[Any]:
    """Every document of a YAML stream, or the one JSON document (a .json file must be JSON).
    The text is measured against the parse budget first (`budget.check`); a kubectl List is
    parsed a slice at a time (`yaml_list`)."""
    looks_json = where.endswith(".json") or data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(
        (b"{", b"[")
    )
    if not looks_json:
        listed = yaml_list.parse(data, where=where, decode_error=_yaml_error)
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
            return [json.loads(text)] if stripped else []
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
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise errors.BundleError(f"{where}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise errors.BundleError(f"{where}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise errors.BundleError(f"{where}: nested too deeply") from exc


def _flatten(doc: Any, *, where: str) -> Iterator[model.KubeObject]:
    if not isinstance(doc, dict):
        raise errors.BundleError(f"{where}: expected a Kubernetes object, got {_type_name(doc)}")
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        if not isinstance(items, list):
            raise errors.BundleError(f"{where}: {kind}.items must be a list")
        item_kind = kind[: -len("List")] if kind != "List" else None
        for i, item in enumerate(items):
            if isinstance(item, dict) and item_kind and "kind" not in item:
                # Raw API lists (PodList, PodMetricsList) leave kind/apiVersion off their items.
                item = {"apiVersion": doc.get("apiVersion"), "kind": item_kind, **item}
            yield from _flatten(item, where=f"{where}, item {i}")
        return
    _validate(doc, where=where)
    yield doc


def _validate(obj: dict[str, Any], *, where: str) -> None:
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if not isinstance(value, str) or not value:
            raise errors.BundleError(f"{where}: object without {field!r}")
    meta = obj.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise errors.BundleError(f"{where}: {obj['kind']}.metadata must be a mapping")
    if isinstance(meta, dict):
        for field in ("name", "namespace"):
            if field in meta and not isinstance(meta[field], str):
                raise errors.BundleError(
                    f"{where}: {obj['kind']}.metadata.{field} must be a string"
                )
        labels = meta.get("labels")
        if labels is not None and not isinstance(labels, dict):
            raise errors.BundleError(f"{where}: {obj['kind']}.metadata.labels must be a mapping")
    for field in ("spec", "status"):
        if field in obj and obj[field] is not None and not isinstance(obj[field], dict):
            raise errors.BundleError(f"{where}: {obj['kind']}.{field} must be a mapping")


def _type_name(value: Any) -> str:
    return {
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
    }.get(type(value), type(value).__name__)
