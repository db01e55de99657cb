"""Reading common fields of raw Kubernetes objects without KeyErrors."""

from collections.abc import Mapping
from typing import Any

KubeObject = dict[str, Any]


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name") or "")


def namespace(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("namespace") or "")


def labels(obj: Mapping[str, Any]) -> dict[str, str]:
    raw = meta(obj).get("labels")
    if not isinstance(raw, dict):
        return {}
    return {str(k): text(v) for k, v in raw.items()}


def annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    raw = meta(obj).get("annotations")
    if not isinstance(raw, dict):
        return {}
    return {str(k): text(v) for k, v in raw.items()}


def text(value: Any) -> str:
    """A label/annotation/selector value as the API would hold it: YAML's unquoted `true` in a
    hand-written bundle becomes "true" (not Python's "True"), None becomes ""."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("spec")
    return value if isinstance(value, dict) else {}


def status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("status")
    return value if isinstance(value, dict) else {}


def ref(obj: Mapping[str, Any]) -> str:
    """How evidence lines cite an object: 'Pod data/profile-db-0', 'Namespace data'."""
    ns = namespace(obj)
    return f"{obj.get('kind', '?')} {ns + '/' if ns else ''}{name(obj)}"


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty list (fields the API may omit or null)."""
    return value if isinstance(value, list) else []


def as_int(value: Any, default: int = 0) -> int:
    """`value` as an int when it is one (or a string of digits), else `default` (hand-made
    bundles hold "x" or null where the API would have a number)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        return int(value.strip())
    return default


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}
