"""Istio benchmark: the synthetic cluster plus the mesh (sidecars, 500 AuthorizationPolicies,
PeerAuthentications), the Istio layer behind the data path's tiers (not part of the test suite).

    .venv/bin/python benchmarks/netpol_istio_bench.py [--pods 10000 --policies 5000
        --namespaces 200 --istio 500] [--oracle-rows 20] [--checks 200] [--runs 5]

Measures in one run: loading (Evidence, parsed views, the compiled program), the full all-pairs
TCP/5432 matrix by the fast engine, the per-pair path on sampled source rows (extrapolated, and
compared with the fast rows), `check_flow` with explanation, and peak memory. Results go to
docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import netpol_istio_synthetic
import netpol_measure
import netpol_synthetic

from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, layers, model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=5_000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--istio", type=int, default=500)
    parser.add_argument("--oracle-rows", type=int, default=20)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    objs = netpol_synthetic.generate(args.pods, args.policies, args.namespaces)
    objs += netpol_istio_synthetic.generate(objs, args.istio)
    semantics = model.DEFAULT
    t0 = time.perf_counter()
    ev = evidence_model.Evidence.of(objs)
    net = cluster.of(ev)
    program = layers.program(net, semantics.cni)
    load = time.perf_counter() - t0
    mesh = [t for t in program.tiers if t.layer == "istio"]
    print(
        f"cluster: {len(net.pods)} pods, {len(net.policies)} NetworkPolicies, "
        f"{len(ev.kind('AuthorizationPolicy'))} AuthorizationPolicies, "
        f"{len(ev.kind('PeerAuthentication'))} PeerAuthentications; compiled: "
        f"{len(program.tiers)} tiers ({len(mesh)} at the sidecar), "
        f"{sum(len(t.policies) for t in program.tiers)} policies"
    )
    print(f"load (Evidence.of + parse + compile): {load * 1000:.0f} ms")
    netpol_measure.report(
        ev, semantics, runs=args.runs, oracle_rows=args.oracle_rows, checks=args.checks
    )


if __name__ == "__main__":
    main()
