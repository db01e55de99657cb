"""The runbook file format, validated at the boundary (msgspec), and the built-in runbooks.

msgspec rather than pydantic: every diagnosis reads a runbook, and pydantic's import alone was
0.13-0.3 s of each `paramedic` run's start (docs/PERFORMANCE.md); msgspec imports in ~12 ms.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Annotated

import msgspec

from paramedic import errors
from paramedic.evidence import yamltext


class Runbook(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A runbook: a symptom, the checks that can explain it, and what breaks next."""

    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    title: Annotated[str, msgspec.Meta(min_length=1)]
    symptom: str = ""
    default_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    checks: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)]
    next: tuple[str, ...] = ()


_NAMED = re.compile(r"field `([^`]+)`")
"""msgspec names an unknown or missing field in its message, not in its path."""


def parse(text: str, *, where: str) -> Runbook:
    try:
        document = yamltext.load(text)
    except yamltext.NotYaml as exc:
        raise errors.RunbookError(f"{where}: {exc}") from exc
    try:
        return msgspec.convert(document, Runbook, strict=False)
    except msgspec.ValidationError as exc:
        message, _, at = str(exc).partition(" - at `$")
        named = _NAMED.search(message)
        field = at.rstrip("`").lstrip(".") or (named.group(1) if named else "(top)")
        raise errors.RunbookError(f"{where}: field {field}: {message}") from exc


def builtin(runbook_id: str) -> Runbook:
    """A runbook shipped with paramedic, by id."""
    files = resources.files("paramedic.runbooks") / "builtin"
    entry = files / f"{runbook_id}.yaml"
    if not entry.is_file():
        known = ", ".join(
            sorted(
                p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml")
            )
        )
        raise errors.RunbookError(f"no built-in runbook {runbook_id!r} (known: {known})")
    return parse(entry.read_text(encoding="utf-8"), where=f"runbook {runbook_id}")
