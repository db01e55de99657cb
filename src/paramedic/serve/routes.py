"""The `--routes` file: which alert becomes which incident (DESIGN.md §3).

    - match: {alertname: PostgresConnectionErrors}
      from: {label: deployment}
      to: {label: db_service}
      namespace: {label: namespace}
      port: 5432

Routes are tried in order; the first whose `match` labels all equal the alert's wins. Each
incident field is a literal or `{label: NAME}` (the alert's label of that name). A route that
matches but names a label the alert lacks does not match: the alert is reported as unrouted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from paramedic import errors
from paramedic.evidence import yamltext

FIELDS = ("from", "to", "port", "namespace")


class _Label(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")
    label: str = pydantic.Field(min_length=1)


Value = str | int | _Label


class Route(pydantic.BaseModel):
    """One route: the labels an alert must carry, and how to read the incident from it."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    match: dict[str, str] = pydantic.Field(min_length=1)
    source: Value = pydantic.Field(alias="from")
    target: Value = pydantic.Field(alias="to")
    namespace: Value | None = None
    port: Value | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The incident an alert asks for, in the API's words (`from`, `to`, `port`, `namespace`)."""

    source: str
    target: str
    port: int | str | None
    namespace: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "port": self.port,
            "namespace": self.namespace,
        }


_ADAPTER = pydantic.TypeAdapter(list[Route])


def parse(text: str, *, where: str) -> tuple[Route, ...]:
    """Routes from the YAML text of a routes file; InputError names the file and field."""
    try:
        document = yamltext.load(text)
    except yamltext.NotYaml as exc:
        raise errors.InputError(f"{where}: {exc}") from exc
    try:
        return tuple(_ADAPTER.validate_python(document if document is not None else []))
    except pydantic.ValidationError as exc:
        raise errors.InputError(f"{where}: route {first_problem(exc)}") from exc


def first_problem(exc: pydantic.ValidationError) -> str:
    """'FIELD: message' of the first thing wrong in a validated document (one line)."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top)"
    return f"{field}: {first['msg']}"


def load(path: Path) -> tuple[Route, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise errors.InputError(f"{path}: cannot read the routes file ({exc.strerror})") from exc
    return parse(text, where=str(path))


def _value(value: Value | None, labels: Mapping[str, str]) -> str | int | None:
    if isinstance(value, _Label):
        return labels.get(value.label)
    return value


def _port(value: str | int | None) -> int | str | None:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def resolve(routes: tuple[Route, ...], labels: Mapping[str, str]) -> Target | None:
    """The incident of the first route that matches `labels`, or None."""
    for route in routes:
        if any(labels.get(k) != v for k, v in route.match.items()):
            continue
        source, target = _value(route.source, labels), _value(route.target, labels)
        if not source or not target:
            continue
        namespace = _value(route.namespace, labels)
        return Target(
            source=str(source),
            target=str(target),
            port=_port(_value(route.port, labels)),
            namespace=str(namespace) if namespace else None,
        )
    return None
