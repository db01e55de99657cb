"""The runbook file format, validated at the boundary (pydantic), and the built-in runbooks."""

from __future__ import annotations

from importlib import resources

import pydantic

from paramedic import errors
from paramedic.evidence import yamltext


class Runbook(pydantic.BaseModel):
    """A runbook: a symptom, the checks that can explain it, and what breaks next."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    id: str = pydantic.Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = pydantic.Field(min_length=1)
    symptom: str = ""
    default_port: int | None = pydantic.Field(default=None, ge=1, le=65535)
    checks: tuple[str, ...] = pydantic.Field(min_length=1)
    next: tuple[str, ...] = ()


def parse(text: str, *, where: str) -> Runbook:
    try:
        document = yamltext.load(text)
    except yamltext.NotYaml as exc:
        raise errors.RunbookError(f"{where}: {exc}") from exc
    try:
        return Runbook.model_validate(document)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise errors.RunbookError(f"{where}: field {field}: {first['msg']}") from exc


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
