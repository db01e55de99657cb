"""Load a bundle whose flows/ holds one 50 MB `hubble observe -o jsonpb` file: time and memory.

    python benchmarks/hubble_flows_bench.py [MB]        # default 50

The reference demo (`demos/seed`) plus flows/big.jsonl of realistic flow lines (~900 bytes:
FORWARDED mostly, one DROPPED POLICY_DENIED in 20, one malformed line in 10,000), deterministic.
Reports the wall time of `bundle.load`, the peak of Python allocations during it (tracemalloc)
and the process's peak RSS growth: the file is streamed, so memory stays bounded by the kept
DROPPED flows (at most hubble.MAX_DROPS), not by the file's size.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from paramedic.evidence import bundle, hubble  # noqa: E402

SEED = ROOT / "src" / "paramedic" / "demos" / "seed"


def line(rng: random.Random, n: int) -> str:
    dropped = n % 20 == 0
    t = f"2026-11-26T03:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}Z"
    body = {
        "time": t,
        "verdict": "DROPPED" if dropped else "FORWARDED",
        "IP": {"source": f"10.244.1.{rng.randrange(2, 250)}",
               "destination": f"10.244.2.{rng.randrange(2, 250)}", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": rng.randrange(30000, 60000), "destination_port": 5432,
                       "flags": {"SYN": True}}},
        "source": {"ID": rng.randrange(1, 4000), "identity": rng.randrange(1000, 90000),
                   "namespace": "app", "labels": ["k8s:app=user-service",
                   "k8s:io.kubernetes.pod.namespace=app"], "pod_name": f"user-service-{n % 7}"},
        "destination": {"ID": 77, "identity": 4242, "namespace": "data",
                        "labels": ["k8s:app=profile-db"], "pod_name": "profile-db-0"},
        "Type": "L3_L4", "node_name": "node-b", "traffic_direction": "INGRESS",
        "Summary": "TCP Flags: SYN", "is_reply": False,
        "event_type": {"type": 1 if dropped else 4, "sub_type": 133 if dropped else 0},
    }  # fmt: skip
    if dropped:
        body.update(drop_reason=133, drop_reason_desc="POLICY_DENIED")
    return json.dumps({"flow": body, "node_name": "node-b", "time": t})


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bundle"
        shutil.copytree(SEED, root)
        (root / "flows").mkdir()
        target = megabytes * 1_000_000
        written = n = 0
        with (root / "flows" / "big.jsonl").open("w") as out:
            while written < target:
                text = "{broken" if n % 10_000 == 9_999 else line(rng, n)
                out.write(text + "\n")
                written += len(text) + 1
                n += 1
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        ev = bundle.load(root)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        gaps = [str(g) for g in ev.gaps if g.kind == "flows"]
        # The flows alone, under tracemalloc (bundle.load's objects.yaml read reserves a
        # 512 MiB buffer that is never touched: it would hide the figure that matters here).
        tracemalloc.start()
        hubble.load(["flows/big.jsonl"], lambda rel: _chunks(root / rel))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"flows file: {written / 1e6:.1f} MB, {n} lines")
        print(f"bundle.load: {elapsed:.2f} s; kept {len(ev.flows)} DROPPED flows; gaps: {gaps}")
        print(f"peak RSS growth during bundle.load: {(after - before) / 1e3:.1f} MB")
        print(f"peak Python allocations while reading the flows: {peak / 1e6:.1f} MB")


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


if __name__ == "__main__":
    main()
