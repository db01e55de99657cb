"""Fully populated objects of every built-in Kubernetes kind, in the spirit of upstream's
round-trip fixtures: every field of every nested type set, to a value that is well-typed but odd
(`nameValue`, `{"labelsKey": "labelsValue"}`, 1, true).

Built from the Kubernetes client's own generated models (`kubernetes.client.models`: every type
of the API with its JSON field names), so the set grows with the client pin. The apiVersion of a
kind is read from the source text of the client's API modules (read, not imported: importing them
all cost seconds): each one serves one group/version, and the models it answers with are its kinds.
"""

from __future__ import annotations

import functools
import inspect
import pkgutil
import re
import types
import typing
from pathlib import Path
from typing import Any

from kubernetes.client import api as api_modules
from kubernetes.client import models
from pydantic import BaseModel

_PATH = re.compile(r"resource_path='/(api/v1|apis/[^/']+/[^/']+)[/']")
_RESPONSE = re.compile(r"'200': \"(V\d\w*)\"")
_VERSION_PREFIX = re.compile(r"^V\d+(?:(?:alpha|beta)\d+)?")
MAX_DEPTH = 12
"""JSONSchemaProps (a CRD's schema) nests itself: it is cut here, as upstream's fixtures cut it."""


@functools.cache
def api_versions() -> dict[str, str]:
    """Model class name → apiVersion (`V1Deployment` → `apps/v1`)."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(api_modules.__path__):
        source = (Path(api_modules.__path__[0]) / f"{info.name}.py").read_text(encoding="utf-8")
        path = _PATH.search(source)
        if path is None:
            continue
        version = path.group(1).removeprefix("apis/").removeprefix("api/")
        for name in _RESPONSE.findall(source):
            found.setdefault(name, version)
    return found


@functools.cache
def fixtures() -> list[dict[str, Any]]:
    """One populated object of every kind (built once per process, on first use, so that
    collecting the tests costs nothing)."""
    return [populated(cls) for cls in kinds()]


def kinds() -> list[type[BaseModel]]:
    """Every model class that is a whole object (kind, apiVersion, metadata), lists excluded."""
    out = []
    for name in sorted(api_versions()):  # only these: each model class costs an import
        cls = getattr(models, name, None)
        if not inspect.isclass(cls) or not issubclass(cls, BaseModel) or name.endswith("List"):
            continue
        if {"kind", "api_version", "metadata"} <= set(cls.model_fields):
            out.append(cls)
    return out


def populated(cls: type[BaseModel], *, namespace: str = "namespaceValue") -> dict[str, Any]:
    """One object of `cls` with every field set."""
    obj = _model(cls, stack=())
    obj["apiVersion"] = api_versions()[cls.__name__]
    obj["kind"] = _VERSION_PREFIX.sub("", cls.__name__)
    obj["metadata"]["namespace"] = namespace
    return obj


def _model(cls: type[BaseModel], *, stack: tuple[type, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, field in cls.model_fields.items():
        key = field.serialization_alias or attr
        if cls in stack or len(stack) >= MAX_DEPTH:
            continue
        value = _value(field.annotation, key, stack=(*stack, cls))
        if value is not None:
            out[key] = value
    return out


def _value(annotation: Any, key: str, *, stack: tuple[type, ...]) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _value(args[0], key, stack=stack)
    if origin in (typing.Union, types.UnionType):
        chosen = [a for a in args if a is not type(None)]
        return _value(chosen[0], key, stack=stack) if chosen else None
    if origin in (list, typing.List):  # noqa: UP006 - the client's annotations use both
        item = _value(args[0], key, stack=stack)
        return None if item is None else [item]
    if origin in (dict, typing.Dict):  # noqa: UP006
        item = _value(args[1], key, stack=stack)
        return None if item is None else {f"{key}Key": item}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in stack:
            return None
        return _model(annotation, stack=stack)
    if annotation is bool:
        return True
    if annotation is int:
        return 1
    if annotation is float:
        return 1.5
    if annotation is bytes or annotation is bytearray:
        return "b2RkVmFsdWU="  # base64, as the API writes bytes
    if getattr(annotation, "__name__", "") in ("datetime", "date"):
        return "2026-12-01T00:00:00Z"
    return f"{key}Value"
