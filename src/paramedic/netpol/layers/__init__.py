"""The layers: each compiles its policy kinds into tiers of the one compiled form (`form`).

The seam. A layer is a module here exposing `LAYERS`, a tuple of `Layer` values:

    Layer(name, stage, kinds, compile, cni=None, replaces=frozenset())
    compile(ctx: Context) -> Output(tiers, invalid, unmodelled)

`stage` places its tiers on the path (ADMIN < CNI < BASELINE < MESH; layers of one stage in
`MODULES` order); `kinds` are the (API group, kind) pairs it evaluates, so the safety net stops
calling them unmodelled; `cni` limits it to one CNI (`--cni` / detection), and `replaces` names
layers it stands in for (Calico compiles Kubernetes NetworkPolicies into its default tier itself).
Adding Calico, Cilium or Istio is one module and one line in `MODULES`; the evaluators, the
matrix, the explanations and the safety net need no change.
"""

from __future__ import annotations

from paramedic.netpol import cluster, form
from paramedic.netpol.layers import (
    admin,
    base,
    calico,
    cilium,
    istio,
    networkpolicy,
    unmodelled,
)

MODULES = (admin, networkpolicy, calico, cilium, istio)
"""Every layer module, in path order within a stage. A new layer is one more entry here."""


def registry() -> tuple[base.Layer, ...]:
    """Every known layer, in path order."""
    found = [layer for module in MODULES for layer in module.LAYERS]
    return tuple(sorted(found, key=lambda layer: layer.stage))


def active(cni: str) -> tuple[base.Layer, ...]:
    """The layers that evaluate flows under `cni`, in path order."""
    chosen = [layer for layer in registry() if layer.cni in (None, cni)]
    replaced = {name for layer in chosen for name in layer.replaces}
    return tuple(layer for layer in chosen if layer.name not in replaced)


def program(view: cluster.Cluster, cni: str = "upstream") -> form.Program:
    """The compiled form of `view` under `cni` (cached on the view)."""
    cached = view.programs.get(cni)
    if cached is not None:
        return cached
    ctx = base.Context(view=view, cni=cni)
    tiers: list[form.Tier] = []
    invalid: list[form.Invalid] = []
    unknown: list[form.Unmodelled] = []
    labels: form.PodLabels | None = None
    layers = active(cni)
    for layer in layers:
        out = layer.compile(ctx)
        tiers += out.tiers
        invalid += out.invalid
        unknown += out.unmodelled
        labels = form.chain(labels, out.pod_labels)
    modelled = frozenset(kind for layer in layers for kind in layer.kinds)
    unknown += unmodelled.scan(view, modelled)
    compiled = form.Program(
        tiers=tuple(tiers),
        invalid=tuple(invalid),
        unmodelled=tuple(unknown),
        cni=cni,
        pod_labels=labels,
    )
    view.programs[cni] = compiled
    return compiled
