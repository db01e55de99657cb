"""Cost of the redaction boundary (not part of the test suite).

    .venv/bin/python benchmarks/redaction_bench.py [DUMP.yaml]

Measures `redact.log_lines` on 20 MB of the demos' own log lines (repeated; they hold the
credential words that make the masking patterns run, so this is the slow case), and
`redact.objects` on a `benchmarks/gen_dump.py` dump (default: 50,000 objects, generated into
/tmp). Prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from pathlib import Path

from paramedic.evidence import demos, documents, redact

LOG_BYTES = 20 * 1000 * 1000


def _log_lines() -> list[str]:
    lines = [
        line
        for demo in demos.available()
        for log in demos.load(demo.name).logs.values()
        for line in log
    ]
    out: list[str] = []
    size = 0
    while size < LOG_BYTES:
        for line in lines:
            out.append(line)
            size += len(line) + 1
    return out


def main() -> None:
    dump = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/paramedic-dump-50k.yaml")
    if not dump.exists():
        here = Path(__file__).resolve().parent
        subprocess.run([sys.executable, str(here / "gen_dump.py"), "50000", str(dump)], check=True)
    lines = _log_lines()
    megabytes = sum(len(line) + 1 for line in lines) / 1e6
    started = time.perf_counter()
    redact.log_lines(lines)
    log_seconds = time.perf_counter() - started

    gc.disable()
    docs = documents.decode(dump.read_bytes(), where=str(dump))
    items = [o for d in docs for o in (d.get("items") or [d])]
    started = time.perf_counter()
    redact.objects(items)
    object_seconds = time.perf_counter() - started

    print("| what | size | time | rate |")
    print("| --- | --- | --- | --- |")
    print(
        f"| `redact.log_lines`, demo log lines | {megabytes:.0f} MB | {log_seconds:.2f} s"
        f" | {megabytes / log_seconds:.1f} MB/s |"
    )
    print(
        f"| `redact.objects`, {dump.name} | {len(items):,} objects | {object_seconds:.2f} s"
        f" | {len(items) / object_seconds:,.0f} objects/s |"
    )


if __name__ == "__main__":
    main()
