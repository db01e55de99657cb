"""Log scanning benchmark (issue 15): >= 50 MB/s of log per core, 20 MB of logs diagnosed < 1 s.

    .venv/bin/python benchmarks/log_scan.py [MEGABYTES]     # default 20

1. Engines: the 52 signatures of signatures.yaml over the same log text, matched by stdlib `re`
   one pattern after another (what the checks did), stdlib `re` as one alternation, RE2 `Set`
   per line, RE2 one search over the whole text, and Hyperscan (when installed) — MB/s each.
2. The shipped pipeline in-process: loading the bundle's logs (cap, redaction) and scanning
   them with `checks.logindex` — MB/s of log text per core (CPU time).
3. `paramedic diagnose BUNDLE -o json` as a user runs it (fresh process, start-up included).
Prints Markdown rows for docs/PERFORMANCE.md. The bundle is benchmarks/gen_logs.py's.
"""

from __future__ import annotations

import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
OUT = ROOT / "benchmarks" / "out"


def _mbps(megabytes: float, seconds: float) -> str:
    return f"{megabytes / seconds:,.1f} MB/s ({seconds:.3f} s)"


def engines(text: str, megabytes: float) -> list[tuple[str, str]]:
    import re2

    doc = yaml.safe_load((ROOT / "src/paramedic/checks/signatures.yaml").read_text())
    patterns = [str(s["pattern"]) for s in doc["signatures"]]
    lines = text.splitlines()
    rows = []
    one_by_one = [re.compile(p, re.IGNORECASE) for p in patterns]
    sample = lines[:20_000]
    sample_mb = sum(len(line) + 1 for line in sample) / 1e6
    start = time.process_time()
    for line in sample:
        for pattern in one_by_one:
            if pattern.search(line):
                break
    rows.append(
        (
            "stdlib re, pattern after pattern (20,000-line sample)",
            _mbps(sample_mb, time.process_time() - start),
        )
    )
    union = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    start = time.process_time()
    sum(1 for line in sample if union.search(line))
    rows.append(
        ("stdlib re, one alternation (sample)", _mbps(sample_mb, time.process_time() - start))
    )
    options = re2.Options()
    options.case_sensitive = False
    options.never_nl = True
    together = re2.Set.SearchSet(options)
    for p in patterns:
        together.Add(p)
    together.Compile()
    data = text.encode()
    encoded = data.split(b"\n")
    start = time.process_time()
    sum(1 for line in encoded if together.Match(line))
    rows.append(("RE2 Set, line by line", _mbps(megabytes, time.process_time() - start)))
    whole = re2.compile("|".join(f"(?:{p})" for p in patterns).encode(), options)
    start = time.process_time()
    sum(1 for _ in whole.finditer(data))
    rows.append(
        ("RE2, one search over the whole text", _mbps(megabytes, time.process_time() - start))
    )
    try:
        import hyperscan
    except ImportError:
        return rows
    db = hyperscan.Database()
    db.compile(
        expressions=[p.encode() for p in patterns],
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=[hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH] * len(patterns),
    )
    start = time.process_time()
    db.scan(data, match_event_handler=lambda *_: None)
    rows.append(("Hyperscan, whole text", _mbps(megabytes, time.process_time() - start)))
    return rows


def pipeline(bundle: Path, megabytes: float) -> tuple[str, str]:
    """Load (cap + redact) and scan with the shipped code, CPU time in one process."""
    code = f"""
import time
from paramedic.checks import logindex
from paramedic.evidence import bundle
start = time.process_time()
ev = bundle.load({str(bundle)!r})
loaded = time.process_time()
for key in ev.logs:
    logindex.hits(ev, key)
done = time.process_time()
print(loaded - start, done - loaded)
"""
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout
    load, scan = (float(x) for x in out.split())
    return _mbps(megabytes, load + scan), f"load {load:.2f} s + scan {scan:.2f} s"


def diagnose(bundle: Path, runs: int = 5) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of each run: on a shared machine the CPU time is what the
    command costs, the wall time also what the other processes took."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [PY, "-m", "paramedic", "diagnose", str(bundle), "-o", "json"],
            stdout=subprocess.DEVNULL,
            check=False,
            timeout=600,
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    bundle = OUT / f"logs-{megabytes:g}mb"
    subprocess.run(
        [PY, str(ROOT / "benchmarks/gen_logs.py"), str(megabytes), str(bundle)], check=True
    )
    text = "".join(p.read_text() for p in sorted((bundle / "logs").rglob("*.log")))
    size = len(text.encode()) / 1e6
    print(f"{size:.1f} MB of logs in {bundle}\n")
    print("| engine (52 signatures, CPU time) | throughput |\n| --- | --- |")
    for name, value in engines(text, size):
        print(f"| {name} | {value} |")
    rate, split = pipeline(bundle, size)
    print("\n| shipped pipeline | measured |\n| --- | --- |")
    print(f"| load + scan, one core | {rate}: {split} |")
    walls, cpus = diagnose(bundle)
    print(
        f"| `paramedic diagnose` {size:.0f} MB of logs, fresh process ({len(walls)} runs) | "
        f"wall median {statistics.median(walls):.2f} s (worst {max(walls):.2f} s), "
        f"CPU median {statistics.median(cpus):.2f} s (worst {max(cpus):.2f} s) |"
    )


if __name__ == "__main__":
    main()
