"""A real-size `kubectl get -A -o yaml` dump (issue 15): load ≤ 20 s and ≤ 2 GB RSS.

    .venv/bin/python benchmarks/dump_load.py [OBJECTS] [--src DIR]    # default 328,000 (~478 MB)

The dump comes from benchmarks/gen_dump.py (one v1 List as kubectl prints it). Each run is a
fresh process that loads it with `bundle.load`, as `paramedic diagnose DUMP` does, and reports
wall time, CPU time and peak RSS. `--src` runs another checkout's code (`src/` of an older commit)
for a before/after comparison. Prints a Markdown row for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

_CODE = """
import resource, sys, time
sys.path.insert(0, {src!r})
from paramedic.evidence import bundle
wall, cpu = time.perf_counter(), time.process_time()
evidence = bundle.load({dump!r})
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(evidence.objects), wall, cpu, peak)
"""


def main() -> None:
    args = sys.argv[1:]
    src = str(ROOT / "src")
    if "--src" in args:
        at = args.index("--src")
        src = str(Path(args[at + 1]).resolve())
        del args[at : at + 2]
    total = int(args[0]) if args else 328_000
    dump = ROOT / "benchmarks" / "out" / f"dump-{total // 1000}k.yaml"
    if not dump.exists():
        subprocess.run(
            [PY, str(ROOT / "benchmarks/gen_dump.py"), str(total), str(dump)], check=True
        )
    done = subprocess.run(
        [PY, "-c", _CODE.format(src=src, dump=str(dump))],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        print(f"load failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
        return
    objects, wall, cpu, peak = done.stdout.split()
    print(
        f"| load {int(objects):,} objects ({dump.stat().st_size / 1e6:.0f} MB) with {src} "
        f"| {float(wall):.1f} s wall, {float(cpu):.1f} s CPU, peak RSS {float(peak):,.0f} MiB |"
    )


if __name__ == "__main__":
    main()
