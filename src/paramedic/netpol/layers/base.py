"""What a layer is: the `Layer` record, its compile `Context` and `Output`, the stages."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from paramedic.netpol import cluster, form

ADMIN, CNI, BASELINE, MESH = 100, 500, 900, 1000
"""Stages: where a layer's tiers sit on the path (lower first)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    view: cluster.Cluster
    cni: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    tiers: tuple[form.Tier, ...] = ()
    invalid: tuple[form.Invalid, ...] = ()
    unmodelled: tuple[form.Unmodelled, ...] = ()
    pod_labels: form.PodLabels | None = None
    """The label map this layer's selectors see for a pod (None: the pod's own labels)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    name: str
    stage: int
    kinds: frozenset[tuple[str, str]]
    """(API group, kind) pairs it evaluates."""
    compile: Callable[[Context], Output]
    cni: str | None = None
    """Active only under this CNI (None: always)."""
    replaces: frozenset[str] = frozenset()
    """Names of layers it stands in for when active."""
