"""Calico benchmark: the synthetic cluster plus Calico policies in 3 tiers (and admin policies),
evaluated under `--cni calico` (not part of the test suite).

    .venv/bin/python benchmarks/netpol_calico_bench.py [--pods 10000 --policies 5000
        --namespaces 200 --calico 1000 --admin 50] [--oracle-rows 20] [--checks 200]

Measures in one run: loading (Evidence, parsed views, the compiled Calico program), the full
all-pairs TCP/5432 matrix by the fast engine, the per-pair path on sampled source rows
(extrapolated, and compared with the fast rows), `check_flow` with explanation after loading,
and peak memory. Results go to docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import netpol_calico_synthetic
import netpol_measure
import netpol_synthetic

from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, layers, model
from paramedic.netpol.calico import view


def admin_policies(base: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` AdminNetworkPolicies: per-team Pass for same-team traffic, Deny from dev."""
    teams = sorted({o["metadata"]["labels"]["team"] for o in base if o["kind"] == "Namespace"})
    found = []
    for i in range(count):
        team = teams[i % len(teams)]
        found.append(
            {
                "apiVersion": "policy.networking.k8s.io/v1alpha1",
                "kind": "AdminNetworkPolicy",
                "metadata": {"name": f"team-{i}"},
                "spec": {
                    "priority": 10 + i,
                    "subject": {"namespaces": {"matchLabels": {"team": team}}},
                    "ingress": [
                        {"name": "dev", "action": "Deny",
                         "from": [{"namespaces": {"matchLabels": {"env": "dev"}}}]},
                        {"name": "same-team", "action": "Pass",
                         "from": [{"namespaces": {"matchLabels": {"team": team}}}]},
                    ],
                },
            }
        )  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=5_000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--calico", type=int, default=1_000)
    parser.add_argument("--admin", type=int, default=50)
    parser.add_argument("--oracle-rows", type=int, default=20)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    objs = netpol_synthetic.generate(args.pods, args.policies, args.namespaces)
    objs += netpol_calico_synthetic.generate(objs, args.calico)
    objs += admin_policies(objs, args.admin)
    semantics = model.CALICO
    t0 = time.perf_counter()
    ev = evidence_model.Evidence.of(objs)
    net = cluster.of(ev)
    calico = view.of(ev)
    program = layers.program(net, semantics.cni)
    load = time.perf_counter() - t0
    print(
        f"cluster: {len(net.pods)} pods, {len(net.policies)} NetworkPolicies, "
        f"{len(calico.policies)} Calico policies in {len(calico.tiers)} tiers, {args.admin} "
        f"AdminNetworkPolicies; compiled: {len(program.tiers)} tiers, "
        f"{sum(len(t.policies) for t in program.tiers)} policies"
    )
    print(f"load (Evidence.of + parse + compile): {load * 1000:.0f} ms")

    netpol_measure.report(
        ev, semantics, runs=args.runs, oracle_rows=args.oracle_rows, checks=args.checks
    )


if __name__ == "__main__":
    main()
