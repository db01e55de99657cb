"""What every layered netpol benchmark measures once its cluster is loaded: the full all-pairs
TCP/5432 matrix by the fast engine (best/median/worst wall, median CPU), the per-pair path on
sampled source rows (extrapolated, compared with the fast rows), `check_flow` with explanation
on random pairs, and the process's peak memory. Printed for docs/PERFORMANCE.md."""

from __future__ import annotations

import os
import random
import resource
import statistics
import time

from paramedic.evidence import model as evidence_model
from paramedic.netpol import engine, matrix, model, peers
from paramedic.netpol import fast as fast_engine


def report(
    ev: evidence_model.Evidence,
    semantics: model.Semantics,
    *,
    runs: int,
    oracle_rows: int,
    checks: int,
) -> None:
    times, cpu, own = [], [], []
    result = None
    for _ in range(runs):
        matrix.clear_cache()
        c0, k0, t0 = time.process_time(), _children_cpu(), time.perf_counter()
        result = matrix.matrix(ev, 5432, "TCP", semantics)
        times.append(time.perf_counter() - t0)
        own.append(time.process_time() - c0)
        cpu.append(own[-1] + _children_cpu() - k0)
    assert result is not None
    fast = statistics.median(times)
    print(
        f"fast matrix TCP/5432 under {semantics.cni}: wall best {min(times) * 1000:.0f} ms, "
        f"median {fast * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms; CPU median "
        f"{statistics.median(cpu) * 1000:.0f} ms (this process "
        f"{statistics.median(own) * 1000:.0f} ms, the rest in its forked child) over {runs} "
        f"runs, {fast_engine.workers(len(result.pods))} process(es); "
        f"{result.allowed_count()} of {len(result.pods) ** 2} pairs allowed; load average "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )

    rng = random.Random(1)
    rows = sorted(rng.sample(range(len(result.pods)), oracle_rows))
    t0 = time.perf_counter()
    oracle = matrix.oracle_matrix(ev, 5432, "TCP", semantics, sources=rows)
    took = time.perf_counter() - t0
    same = all(oracle.rows[i] == result.rows[i] for i in rows)
    full = took / len(rows) * len(result.pods)
    pairs = len(rows) * len(result.pods)
    print(
        f"per-pair path: {len(rows)} rows = {pairs} pairs in {took:.2f} s "
        f"({took / pairs * 1e6:.1f} us/pair); extrapolated full matrix {full:.0f} s; "
        f"rows identical to fast: {same}; speed-up {full / fast:.0f}x (wall, same run)"
    )

    pod_objs = matrix.ordered_pods(ev)
    spent = []
    for _ in range(checks):
        src, dst = rng.choice(pod_objs), rng.choice(pod_objs)
        t0 = time.perf_counter()
        r = engine.check_flow(ev, peers.Peer.pod(src), peers.Peer.pod(dst), 5432, "TCP", semantics)
        r.as_dict()
        spent.append(time.perf_counter() - t0)
    spent.sort()
    print(
        f"check_flow with explanation: median {statistics.median(spent) * 1000:.2f} ms, "
        f"p99 {spent[int(len(spent) * 0.99) - 1] * 1000:.2f} ms, max {spent[-1] * 1000:.2f} ms"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (generator + evidence + everything above): {rss:.0f} MiB")


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the matrix's worker processes)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime
