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
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import netpol_istio_synthetic
import netpol_synthetic

from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, engine, layers, matrix, model, peers


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
    times, cpu = [], []
    result = None
    for _ in range(args.runs):
        matrix.clear_cache()
        c0, t0 = time.process_time(), time.perf_counter()
        result = matrix.matrix(ev, 5432, "TCP", semantics)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert result is not None
    fast = statistics.median(times)
    print(
        f"fast matrix TCP/5432: wall best {min(times) * 1000:.0f} ms, median "
        f"{fast * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms; CPU median "
        f"{statistics.median(cpu) * 1000:.0f} ms over {args.runs} runs; "
        f"{result.allowed_count()} of {len(result.pods) ** 2} pairs allowed"
    )
    rng = random.Random(1)
    rows = sorted(rng.sample(range(len(result.pods)), args.oracle_rows))
    t0 = time.perf_counter()
    oracle = matrix.oracle_matrix(ev, 5432, "TCP", semantics, sources=rows)
    took = time.perf_counter() - t0
    same = all(oracle.rows[i] == result.rows[i] for i in rows)
    full = took / len(rows) * len(result.pods)
    pairs = len(rows) * len(result.pods)
    print(
        f"per-pair path: {len(rows)} rows = {pairs} pairs in {took:.2f} s "
        f"({took / pairs * 1e6:.1f} us/pair); extrapolated full matrix {full:.0f} s; "
        f"rows identical to fast: {same}; speed-up {full / fast:.0f}x"
    )
    pod_objs = matrix.ordered_pods(ev)
    checks = []
    for _ in range(args.checks):
        src, dst = rng.choice(pod_objs), rng.choice(pod_objs)
        t0 = time.perf_counter()
        engine.check_flow(
            ev, peers.Peer.pod(src), peers.Peer.pod(dst), 5432, "TCP", semantics
        ).as_dict()
        checks.append(time.perf_counter() - t0)
    checks.sort()
    print(
        f"check_flow with explanation: median {statistics.median(checks) * 1000:.2f} ms, "
        f"p99 {checks[int(len(checks) * 0.99) - 1] * 1000:.2f} ms, max {checks[-1] * 1000:.2f} ms"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (generator + evidence + everything above): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
