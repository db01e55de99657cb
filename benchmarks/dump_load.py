"""A real-size `kubectl get -A -o yaml` dump (issue 15): load and diagnose ≤ 20 s, ≤ 2 GB.

    .venv/bin/python benchmarks/dump_load.py [OBJECTS] [--src DIR] [--full]   # 328,000: ~478 MB

The dump comes from benchmarks/gen_dump.py (one v1 List as kubectl prints it). Each run is a
fresh process that loads it with `bundle.load` and diagnoses svc-0 -> svc-1 in team-000 with the
built-in runbook, as `paramedic diagnose DUMP --from svc-0 --to svc-1 -n team-000` does: only
what that diagnosis reads is parsed (`engine.reads`, evidence/selection.py); `--full` parses
every item, as `paramedic netpol` and older versions do. It reports wall time and CPU time of the
load and of load + diagnosis, peak RSS and peak address space (VmPeak), and the CPU time and
largest RSS of the worker processes that parse a big List (evidence/parallel.py). `--src` runs
another checkout's code (`src/` of an older commit) for a before/after comparison. Prints a
Markdown row for docs/PERFORMANCE.md.
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
from paramedic.evidence import bundle, model
from paramedic.runbooks import engine, model as runbook_model
incident = model.Incident(source="svc-0", target="svc-1", port=None, namespace="team-000")
runbook = runbook_model.builtin(incident.runbook)
select = None if {full!r} else getattr(engine, "reads", lambda *_: None)(runbook, incident)
wall, cpu = time.perf_counter(), time.process_time()
evidence = bundle.load({dump!r}, select=select) if select else bundle.load({dump!r})
load_wall, load_cpu = time.perf_counter() - wall, time.process_time() - cpu
result = engine.run(runbook, evidence, incident)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
vm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmPeak")][0] / 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
worker_cpu, worker_peak = workers.ru_utime + workers.ru_stime, workers.ru_maxrss / 1024
print(len(evidence.objects), load_wall, load_cpu, wall, cpu, peak, vm, len(result.findings),
      worker_cpu, worker_peak)
"""


def main() -> None:
    args = sys.argv[1:]
    src = str(ROOT / "src")
    if "--src" in args:
        at = args.index("--src")
        src = str(Path(args[at + 1]).resolve())
        del args[at : at + 2]
    full = "--full" in args
    if full:
        args.remove("--full")
    total = int(args[0]) if args else 328_000
    dump = ROOT / "benchmarks" / "out" / f"dump-{total // 1000}k.yaml"
    if not dump.exists():
        subprocess.run(
            [PY, str(ROOT / "benchmarks/gen_dump.py"), str(total), str(dump)], check=True
        )
    done = subprocess.run(
        [PY, "-c", _CODE.format(src=src, dump=str(dump), full=full)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        print(f"load failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
        return
    objects, load_wall, load_cpu, wall, cpu, peak, vm, findings, worker_cpu, worker_peak = (
        done.stdout.split()
    )
    print(
        f"| {'full' if full else 'selective'} load: {int(objects):,} objects "
        f"({dump.stat().st_size / 1e6:.0f} MB) with {src} "
        f"| {float(load_wall):.1f} s wall, {float(load_cpu):.1f} s CPU "
        f"| load + diagnose ({findings} findings): {float(wall):.1f} s wall, {float(cpu):.1f} s CPU"
        f" | peak RSS {float(peak):,.0f} MiB, peak address space {float(vm):,.0f} MiB"
        f" | worker processes: {float(worker_cpu):.1f} s CPU, peak RSS {float(worker_peak):,.0f}"
        " MiB each at most |"
    )


if __name__ == "__main__":
    main()
