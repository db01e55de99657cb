"""Cilium benchmark: the synthetic cluster plus Cilium policies (deny rules, entities), evaluated
under `--cni cilium` (not part of the test suite).

    .venv/bin/python benchmarks/netpol_cilium_bench.py [--pods 10000 --policies 5000
        --namespaces 200 --cilium 1000] [--oracle-rows 20] [--checks 200] [--runs 5]

Measures in one run: loading (Evidence, parsed views, the compiled program), the full all-pairs
TCP/5432 matrix by the fast engine, the per-pair path on sampled source rows (extrapolated, and
compared with the fast rows), `check_flow` with explanation after loading, and peak memory.
Results go to docs/PERFORMANCE.md by hand.

The issue's scenario: 1,000 Cilium policies and 500 Istio AuthorizationPolicies on the same
cluster (`--istio 0` leaves the mesh out). Further layers: append a generator `(objects so far,
count) -> new objects` to `LAYERS` below, with its option; the measurements need no change.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import netpol_cilium_synthetic
import netpol_istio_synthetic
import netpol_measure
import netpol_synthetic

from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, engine, layers

Objects = list[dict[str, Any]]
LAYERS: list[tuple[str, int, Callable[[Objects, int], Objects]]] = [
    ("cilium", 1_000, netpol_cilium_synthetic.generate),
    ("istio", 500, netpol_istio_synthetic.generate),  # the mesh: sidecars + AuthorizationPolicies
]
"""(option name, default count, generator): each adds its objects to the scenario in order."""


def scenario(args: argparse.Namespace) -> Objects:
    objs = netpol_synthetic.generate(args.pods, args.policies, args.namespaces)
    for name, _, generate in LAYERS:
        if getattr(args, name):  # 0 leaves the layer out entirely
            objs += generate(objs, getattr(args, name))
    return objs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=5_000)
    parser.add_argument("--namespaces", type=int, default=200)
    for name, default, _ in LAYERS:
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--oracle-rows", type=int, default=20)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    objs = scenario(args)
    t0 = time.perf_counter()
    ev = evidence_model.Evidence.of(objs)
    semantics, why = engine.semantics_for(ev, "auto")
    net = cluster.of(ev)
    program = layers.program(net, semantics.cni)
    load = time.perf_counter() - t0
    counts = ", ".join(f"{getattr(args, name)} {name}" for name, _, _ in LAYERS)
    print(
        f"cluster: {len(net.pods)} pods, {len(net.policies)} NetworkPolicies, {counts} policies; "
        f"cni {why}; compiled: {[(t.name, len(t.policies)) for t in program.tiers]}, "
        f"{len(program.invalid)} invalid, {len(program.unmodelled)} unmodelled"
    )
    print(f"load (Evidence.of + parse + compile): {load * 1000:.0f} ms")

    netpol_measure.report(
        ev, semantics, runs=args.runs, oracle_rows=args.oracle_rows, checks=args.checks
    )


if __name__ == "__main__":
    main()
