"""A check's Context built from a shipped demo, optionally edited: the check tests' one builder."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from paramedic.checks import model
from paramedic.evidence import demos, probes_file
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve

Objects = list[dict[str, Any]]


def context(
    demo: str,
    edit: Callable[[Objects], None] | None = None,
    *,
    logs: dict[tuple[str, str, str], tuple[str, ...]] | None = None,
    probes: tuple[probes_file.ProbeResult, ...] | None = None,
    earlier: dict[str, model.Finding] | None = None,
) -> model.Context:
    """The demo's evidence with `edit` applied to a copy of its objects, and logs/probes swapped."""
    base = demos.load(demo)
    objects = copy.deepcopy(list(base.objects))
    if edit is not None:
        edit(objects)
    evidence = evidence_model.Evidence.of(
        objects,
        logs=base.logs if logs is None else logs,
        probes=base.probes if probes is None else probes,
        incident=base.incident,
    )
    assert base.incident is not None
    scope = resolve.resolve(evidence, base.incident, default_port=5432)
    return model.Context(evidence=evidence, scope=scope, earlier=earlier or {})
