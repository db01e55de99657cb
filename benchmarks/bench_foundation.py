"""Foundation benchmarks (issue: diagnose <= 1 s wall, 50,000-object dump loads <= 5 s).

    .venv/bin/python benchmarks/bench_foundation.py

1. `paramedic diagnose <reference bundle>` as a user runs it: a fresh interpreter each time,
   start-up included; median and worst of several runs.
2. Loading a generated 50,000-object `kubectl get -A -o yaml` dump (benchmarks/gen_dump.py):
   wall time and peak memory of the loading process.
Prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SEED = ROOT / "src" / "paramedic" / "demos" / "seed"
DUMP = ROOT / "benchmarks" / "out" / "dump-50k.yaml"


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=120
    )
    return time.perf_counter() - start


def diagnose_wall(runs: int = 7) -> list[float]:
    argv = [PY, "-m", "paramedic", "diagnose", str(SEED), "-o", "json"]
    _wall(argv)  # warm the page cache and .pyc files
    return [_wall(argv) for _ in range(runs)]


def load_dump() -> tuple[float, float]:
    if not DUMP.exists():
        subprocess.run(
            [PY, str(ROOT / "benchmarks" / "gen_dump.py"), "50000", str(DUMP)], check=True
        )
    code = (
        "import resource, time; t = time.perf_counter();"
        "from paramedic.evidence import bundle;"
        f"e = bundle.load({str(DUMP)!r}); assert len(e.objects) == 50000;"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [PY, "-c", code], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    seconds, mib = (float(x) for x in out.split())
    return seconds, mib


def main() -> None:
    walls = diagnose_wall()
    seconds, mib = load_dump()
    print("| benchmark | target | measured |")
    print("| --- | --- | --- |")
    print(
        f"| `paramedic diagnose` reference bundle, wall incl. start-up ({len(walls)} runs) "
        "| <= 1 s "
        f"| median {statistics.median(walls):.2f} s, worst {max(walls):.2f} s |"
    )
    print(
        f"| load 50,000-object YAML dump ({DUMP.stat().st_size / 1e6:.0f} MB) | <= 5 s "
        f"| {seconds:.2f} s, peak RSS {mib:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
