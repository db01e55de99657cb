"""Generate a bundle with big container logs for the log-scanning benchmark.

    python benchmarks/gen_logs.py 20 /tmp/logs-bundle      # ~20 MB of logs

The reference demo (`demos/seed`) with its three logs (two user-service pods, profile-db-0)
grown to 2 MB each, plus 2 MB logs of more containers of those pods until the size is reached
(the issue's case: ten 2 MiB logs on one pod). Realistic lines: HTTP access lines, PostgreSQL
checkpoints and statements, pool warnings, DSNs and key=value settings (what redaction looks
at), and one recognised error line in about every 200. Deterministic (seeded): runs compare.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "src" / "paramedic" / "demos" / "seed"

_APP = (
    "{ts} INFO  http GET /api/v1/profiles/{n} 200 {ms}ms",
    '{ts} INFO  http POST /api/v1/profiles 201 {ms}ms user_agent="okhttp/4.{n}"',
    "{ts} DEBUG db pool: checked out connection {n} (in use {m}/20, idle {k})",
    "{ts} INFO  cache refresh: {n} keys loaded from redis://cache.app.svc:6379/0 in {ms}ms",
    "{ts} WARN  slow handler /api/v1/search took {ms}ms (query={n})",
    "{ts} INFO  config: DB_HOST=profile-db.data DB_PORT=5432 POOL_SIZE=20 request_id={n}",
)
_DB = (
    "{ts} UTC [{k}] LOG:  checkpoint starting: time",
    "{ts} UTC [{k}] LOG:  checkpoint complete: wrote {n} buffers (2.5%); 0 WAL file(s) added, "
    "0 removed, 2 recycled; write=33.911 s, sync=0.412 s, total=34.593 s",
    "{ts} UTC [{k}] LOG:  duration: {ms}.512 ms  statement: SELECT * FROM profiles WHERE id = {n}",
    "{ts} UTC [{k}] LOG:  connection received: host=10.244.1.{m} port={n}",
    "{ts} UTC [{k}] LOG:  connection authorized: user=user_service database=profiles "
    "application_name=user-service",
)
_ERRORS = (
    '{ts} ERROR db pool: connection failed: connection to server at "10.96.112.40", port 5432 '
    "failed: timeout expired",
    "{ts} UTC [{k}] FATAL:  sorry, too many clients already",
    "{ts} ERROR pool acquire: context deadline exceeded",
    "{ts} WARN  retrying postgresql://user_service:{n}abc@profile-db.data:5432/profiles",
)


def _lines(templates: tuple[str, ...], size: int, rng: random.Random) -> str:
    out: list[str] = []
    total = 0
    while total < size:
        minute, second, milli = rng.randrange(60), rng.randrange(60), rng.randrange(1000)
        ts = f"2026-11-26T03:{minute:02d}:{second:02d}.{milli:03d}Z"
        pool = _ERRORS if rng.randrange(200) == 0 else templates
        line = rng.choice(pool).format(
            ts=ts,
            n=rng.randrange(100000),
            m=rng.randrange(255),
            k=rng.randrange(900),
            ms=rng.randrange(2000),
        )
        out.append(line)
        total += len(line) + 1
    return "\n".join(out) + "\n"


def main(megabytes: float, out: Path) -> None:
    rng = random.Random(42)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(SEED, out)
    (out / "expected.json").unlink(missing_ok=True)
    logs = sorted((out / "logs").rglob("*.log"))
    count = max(len(logs), round(megabytes / 2))
    for i in range(len(logs), count):  # more containers' logs, round-robin over the three pods
        logs.append(logs[i % 3].with_name(f"sidecar-{i}.log"))
    for log in logs:
        templates = _DB if "profile-db" in str(log) else _APP
        log.write_text(_lines(templates, 2_000_000, rng))


if __name__ == "__main__":
    main(float(sys.argv[1]), Path(sys.argv[2]))
