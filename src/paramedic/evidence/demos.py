"""The demo incidents shipped inside the package (`paramedic demo`).

Each demo is an ordinary bundle folder under paramedic/demos/<name>/ with an incident.yaml,
so demos go through exactly the same loading and checking path as a user's bundle.
"""

from __future__ import annotations

import dataclasses
import functools
from importlib import resources
from pathlib import Path

from paramedic import errors
from paramedic.evidence import bundle, layout, model, yamltext

DEFAULT = "seed"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Demo:
    name: str
    title: str
    path: Path


def root() -> Path:
    return Path(str(resources.files("paramedic") / "demos"))


@functools.cache
def available() -> tuple[Demo, ...]:
    """Every shipped demo, the reference one first, then by name (read once: the demos are
    package data, fixed for the life of the process)."""
    found = []
    for folder in sorted(root().iterdir()):
        incident = folder / layout.INCIDENT[0]
        if not incident.is_file():
            continue
        doc = yamltext.load(incident.read_text(encoding="utf-8")) or {}
        found.append(Demo(name=folder.name, title=str(doc.get("title", folder.name)), path=folder))
    return tuple(sorted(found, key=lambda d: (d.name != DEFAULT, d.name)))


def load(name: str) -> model.Evidence:
    for demo in available():
        if demo.name == name:
            return bundle.load(demo.path, provenance=f"demo {name}")
    known = ", ".join(d.name for d in available())
    raise errors.InputError(f"no demo named {name!r} (try: {known})")
