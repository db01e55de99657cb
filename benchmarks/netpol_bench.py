"""NetworkPolicy engine benchmark on the synthetic cluster (not part of the test suite).

    .venv/bin/python benchmarks/netpol_bench.py [--pods 10000 --policies 5000 --namespaces 200]
        [--anps 50] [--oracle-rows 20] [--checks 200]

Measures, in one run: loading (Evidence + parsed policy view), the full all-pairs TCP/5432
matrix by the fast engine, the per-pair oracle on a sample of source rows (extrapolated to all
rows, and compared with the fast rows for equality), peak memory, and single `check_flow`
calls with explanation after loading. Results go to docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import netpol_admin_synthetic
import netpol_synthetic

from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, engine, layers, matrix, patch, peers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=5_000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--anps", type=int, default=50, help="AdminNetworkPolicies (+ a BANP)")
    parser.add_argument("--oracle-rows", type=int, default=20)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    objs = netpol_synthetic.generate(args.pods, args.policies, args.namespaces)
    if args.anps:
        objs += netpol_admin_synthetic.admin_policies(args.anps)
    t0 = time.perf_counter()
    ev = evidence_model.Evidence.of(objs)
    view = cluster.of(ev)
    program = layers.program(view)
    load = time.perf_counter() - t0
    tiers = ", ".join(f"{t.name}: {len(t.policies)}" for t in program.tiers)
    print(
        f"cluster: {len(view.pods)} pods, {len(view.namespaces)} namespaces; tiers {tiers}; "
        f"{len(program.invalid)} invalid"
    )
    print(f"load (Evidence.of + parse and compile every layer): {load * 1000:.0f} ms")

    times, cpu = [], []
    result = None
    for _ in range(args.runs):
        matrix.clear_cache()
        c0, t0 = time.process_time(), time.perf_counter()
        result = matrix.matrix(ev, 5432, "TCP")
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert result is not None
    fast_best, fast_median = min(times), statistics.median(times)
    print(
        f"fast matrix TCP/5432: wall best {fast_best * 1000:.0f} ms, median "
        f"{fast_median * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms; CPU median "
        f"{statistics.median(cpu) * 1000:.0f} ms over {args.runs} runs; "
        f"{result.allowed_count()} of {len(result.pods) ** 2} pairs allowed"
    )

    matrix.clear_cache()
    tracemalloc.start()
    matrix.matrix(ev, 5432, "TCP")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"fast matrix traced peak allocation: {peak / 2**20:.0f} MiB")

    rng = random.Random(1)
    rows = sorted(rng.sample(range(len(result.pods)), args.oracle_rows))
    t0 = time.perf_counter()
    oracle = matrix.oracle_matrix(ev, 5432, "TCP", sources=rows)
    oracle_time = time.perf_counter() - t0
    same = all(oracle.rows[i] == result.rows[i] for i in rows)
    pairs = len(rows) * len(result.pods)
    full = oracle_time / len(rows) * len(result.pods)
    print(
        f"oracle: {len(rows)} rows = {pairs} pairs in {oracle_time:.2f} s "
        f"({oracle_time / pairs * 1e6:.1f} us/pair); extrapolated full matrix {full:.0f} s; "
        f"rows identical to fast: {same}"
    )
    print(f"speed-up fast vs oracle (extrapolated): {full / fast_median:.0f}x")

    pod_objs = matrix.ordered_pods(ev)
    src_dst = [
        (rng.randrange(len(pod_objs)), rng.randrange(len(pod_objs))) for _ in range(args.checks)
    ]
    check_times = []
    for i, j in src_dst:
        t0 = time.perf_counter()
        r = engine.check_flow(ev, peers.Peer.pod(pod_objs[i]), peers.Peer.pod(pod_objs[j]), 5432)
        r.as_dict()
        check_times.append(time.perf_counter() - t0)
    check_times.sort()
    p99 = check_times[int(len(check_times) * 0.99) - 1]
    print(
        f"check_flow with explanation: median {statistics.median(check_times) * 1000:.2f} ms, "
        f"p99 {p99 * 1000:.2f} ms, max {check_times[-1] * 1000:.2f} ms "
        f"over {len(check_times)} flows"
    )

    denied = [(i, j) for i, j in src_dst if not result.allowed(i, j) and i != j][:3]
    for i, j in denied:
        src, dst = peers.Peer.pod(pod_objs[i]), peers.Peer.pod(pod_objs[j])
        matrix.clear_cache()
        t0 = time.perf_counter()
        r = engine.check_flow(ev, src, dst, 5432)
        fix = patch.minimal_patch(ev, r, src, dst, 5432, "TCP")
        took = time.perf_counter() - t0
        print(
            f"minimal_patch (matrix before/after on every admitted port): {took * 1000:.0f} ms, "
            f"{len(fix.objects)} policies, blast radius {len(fix.blast_radius)} flows"
        )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (generator + evidence + everything above): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
