"""`paramedic serve` under load (issue 12), against the real CLI in its own process.

    .venv/bin/python benchmarks/serve_bench.py [--concurrency 20] [--no-crash] [-- SERVE-OPTION...]

The reference demo is served by the tests' fake API server (tests/live/fakeapi.py) in a process of
its own; `paramedic
serve` runs as a subprocess (SQLite store, 2 workers, --timeout 5) with a routes file.
1. Burst: 200 Alertmanager webhook posts from this (second) process on loopback, in 10 waves of
   20 (new alerts, duplicates of alerts already sent, and resolutions of them), sent with 1, 4
   and 20 posts in flight at once (a fresh server and store each time; `--concurrency` picks).
   Checks that every new alert is exactly one incident, every resolved one is closed, nothing
   else exists; reports webhook latency (p50/p99/max) measured while the diagnoses run, and
   the server's resident memory (itself plus its worker processes) sampled throughout, and the
   CPU time (user + system) the server process spent during the burst, per post (the worker
   processes excluded; the server's dispatching of diagnoses included).
2. Crash: 30 new alerts, `kill -9` of the server's whole process group while diagnoses run,
   restart on the same store: every incident is still there and ends finished or failed with
   why (a diagnosis cut off is retried after its lease).
Prints the figures for docs/PERFORMANCE.md; writes benchmarks/out/serve.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import importlib.util
import json
import multiprocessing
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from live import livekit  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
import serve_trace  # noqa: E402

TRACE_HEADER = "X-Paramedic-Trace"

ROUTES = """\
- match: {alertname: PostgresConnectionErrors}
  from: {label: deployment}
  to: {label: db_service}
  namespace: {label: namespace}
  port: 5432
"""
TIMEOUT = 5
CONCURRENCY = (1, 4, 20)
"""Posts in flight at once: one after the other, a few alert groups flushing together (as
Alertmanager does), and the whole wave of 20 at once."""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _payload(fingerprint: str, status: str) -> bytes:
    alert = {
        "status": status,
        "labels": {
            "alertname": "PostgresConnectionErrors",
            "deployment": "user-service",
            "db_service": "profile-db.data",
            "namespace": "app",
            "instance": fingerprint,
        },
        "annotations": {},
        "startsAt": "2026-12-03T03:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.test/graph",
        "fingerprint": fingerprint,
    }
    return json.dumps(
        {
            "version": "4",
            "status": status,
            "receiver": "paramedic",
            "groupKey": fingerprint,
            "externalURL": "http://am.test",
            "alerts": [alert],
        }
    ).encode()


_CONNECTIONS = threading.local()


def _post(url: str, body: bytes, tag: str = "") -> tuple[int, float, float]:
    """(status, seconds, sent at) of one POST on this thread's keep-alive connection
    (Alertmanager's Go client keeps its connections open too); a 503 is retried after its
    Retry-After, as Alertmanager does (the time reported is the first attempt's). `tag` goes in
    the trace header (the server's phases of this request, with --trace). Times are
    time.monotonic(), the clock the server's trace reads too."""
    parts = urllib.parse.urlsplit(url)
    first: float | None = None
    sent: float | None = None
    headers = {"Content-Type": "application/json"}
    if tag:
        headers[TRACE_HEADER] = tag
    while True:
        connection = getattr(_CONNECTIONS, parts.netloc, None)
        reused = connection is not None
        if connection is None:
            connection = http.client.HTTPConnection(parts.netloc, timeout=30)
            setattr(_CONNECTIONS, parts.netloc, connection)
        started = time.monotonic()
        try:
            connection.request("POST", parts.path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            status = answer.status
        except (OSError, http.client.HTTPException):
            connection.close()
            setattr(_CONNECTIONS, parts.netloc, None)
            if reused:  # the server closed it while idle: send again on a new one, as Go does
                continue
            raise
        elapsed = time.monotonic() - started
        first = elapsed if first is None else first
        sent = started if sent is None else sent
        if status != 503:
            return status, first, sent
        time.sleep(5)


def _cluster(kubeconfig: str, stop: Any) -> None:
    """The fake API server, in a process of its own (so serving the diagnoses' requests never
    takes the posting process's interpreter): writes its kubeconfig, serves until `stop`."""
    with livekit.seed_server() as api:
        api.kubeconfig(Path(kubeconfig + ".tmp"), namespace="app")
        os.replace(kubeconfig + ".tmp", kubeconfig)
        stop.wait()


class Server:
    """`paramedic serve` in its own process group (so kill -9 takes its workers too)."""

    def __init__(
        self,
        db: Path,
        kubeconfig: Path,
        routes: Path,
        extra: tuple[str, ...],
        trace: Path | None = None,
    ) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paramedic",
                "serve",
                f"--listen=127.0.0.1:{self.port}",
                f"--store=sqlite:///{db}",
                f"--routes={routes}",
                f"--kubeconfig={kubeconfig}",
                f"--timeout={TIMEOUT}",
                "--workers=2",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **({"PARAMEDIC_SERVE_TRACE": str(trace)} if trace else {})},
        )
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError("paramedic serve did not start")

    def rss_mib(self) -> float:
        """Resident memory of the server and every process in its group, MiB."""
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.process.pid:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except (OSError, ProcessLookupError):
                continue
        return total / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (all its threads), seconds."""
        fields = (Path("/proc") / str(self.process.pid) / "stat").read_text().rsplit(")", 1)[1]
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def kill9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def _rows(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db, timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        return [
            dict(r)
            for r in conn.execute(
                "SELECT id, state, phase, fingerprint, firing, attempts, error,"
                " diagnosis IS NOT NULL AS diagnosed FROM incidents"
            )
        ]


def _wait_done(db: Path, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if all(r["phase"] == "done" for r in _rows(db)):
            return time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError("diagnoses did not finish")


def burst(
    tmp: Path,
    kubeconfig: Path,
    routes: Path,
    concurrency: int,
    extra: tuple[str, ...],
    trace: bool = False,
) -> dict[str, Any]:
    db = tmp / f"burst-{concurrency}.db"
    trace_file = tmp / f"trace-{concurrency}.jsonl" if trace else None
    server = Server(db, kubeconfig, routes, extra, trace_file)
    rng = random.Random(12)
    firing: list[str] = []
    resolved: set[str] = set()
    kinds = {"new": 0, "duplicate": 0, "resolved": 0}
    waves: list[list[tuple[str, bytes]]] = []
    for wave in range(10):
        posts = []
        touched: set[str] = set()
        for n in range(20):
            # only alerts of earlier waves, each at most once a wave: a duplicate or resolution
            # never races the first firing of its alert, nor a duplicate its resolution
            open_ones = [
                f
                for f in firing
                if f not in resolved and f not in touched and not f.startswith(f"fp-{wave:02d}")
            ]
            roll = rng.random()
            if wave == 0 or roll < 0.5 or not open_ones:
                fingerprint = f"fp-{wave:02d}-{n:02d}"
                firing.append(fingerprint)
                posts.append(("new", _payload(fingerprint, "firing")))
            elif roll < 0.8:
                fingerprint = rng.choice(open_ones)
                touched.add(fingerprint)
                posts.append(("duplicate", _payload(fingerprint, "firing")))
            else:
                fingerprint = rng.choice(open_ones)
                touched.add(fingerprint)
                resolved.add(fingerprint)
                posts.append(("resolved", _payload(fingerprint, "resolved")))
        waves.append(posts)
    peak = [server.rss_mib()]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.25):
            peak.append(server.rss_mib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    latencies: list[float] = []
    wave_max: list[float] = []
    statuses: dict[int, int] = {}
    client: dict[str, tuple[float, float]] = {}
    load_before = os.getloadavg()[0]
    url = f"{server.url}/api/v1/alertmanager"
    started, cpu_started = time.monotonic(), server.cpu_seconds()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for w, posts in enumerate(waves):
            for kind, _ in posts:
                kinds[kind] += 1
            tags = [f"{w}-{n}" if trace else "" for n in range(len(posts))]
            answers = list(pool.map(lambda p, t: _post(url, p[1], t), posts, tags))
            wave_max.append(max(seconds for _, seconds, _ in answers))
            for tag, (status, seconds, sent) in zip(tags, answers, strict=True):
                latencies.append(seconds)
                statuses[status] = statuses.get(status, 0) + 1
                client[tag] = (sent, sent + seconds)
    burst_seconds = time.monotonic() - started
    load_after = os.getloadavg()[0]
    burst_cpu = server.cpu_seconds() - cpu_started
    running_during = sum(r["phase"] != "done" for r in _rows(db))
    drain_cpu = server.cpu_seconds()
    drained = _wait_done(db, 600)
    drain_cpu = server.cpu_seconds() - drain_cpu
    sampling.set()
    sampler.join()
    rows = _rows(db)
    server.stop()
    traced = serve_trace.analyse(trace_file, client) if trace_file else None
    by_fp: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_fp.setdefault(row["fingerprint"], []).append(row)
    lost = [f for f in firing if f not in by_fp]
    duplicated = [f for f, found in by_fp.items() if len(found) > 1]
    not_closed = [f for f in resolved if by_fp.get(f, [{}])[0].get("state") != "closed"]
    wrongly_closed = [
        r["fingerprint"]
        for r in rows
        if r["state"] == "closed" and r["fingerprint"] not in resolved
    ]
    latencies.sort()
    return {
        "concurrency": concurrency,
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "posts": len(latencies),
        "kinds": kinds,
        "statuses": statuses,
        "incidents": len(rows),
        "distinct_alerts": len(firing),
        "lost": lost,
        "duplicated": duplicated,
        "resolved": len(resolved),
        "not_closed": not_closed,
        "wrongly_closed": wrongly_closed,
        "diagnosed": sum(bool(r["diagnosed"]) for r in rows),
        "diagnosis_errors": sorted({r["error"] for r in rows if r["error"]}),
        "burst_seconds": round(burst_seconds, 2),
        "waiting_when_burst_ended": running_during,
        "drain_seconds": round(drained, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "max_ms_by_wave": [round(s * 1000, 1) for s in wave_max],
        "server_cpu_ms_per_post": round(burst_cpu * 1000 / len(latencies), 2),
        "server_cpu_ms_per_diagnosis_after_burst": round(
            drain_cpu * 1000 / max(1, running_during), 2
        ),
        "rss_start_mib": round(peak[0], 1),
        "rss_peak_mib": round(max(peak), 1),
        "rss_end_mib": round(peak[-1], 1),
        **({"trace": traced} if traced else {}),
    }


def crash(tmp: Path, kubeconfig: Path, routes: Path, extra: tuple[str, ...]) -> dict[str, Any]:
    db = tmp / "crash.db"
    server = Server(db, kubeconfig, routes, extra)
    url = f"{server.url}/api/v1/alertmanager"
    for n in range(30):
        assert _post(url, _payload(f"crash-{n:02d}", "firing"))[0] == 202
    while not any(r["phase"] == "running" for r in _rows(db)):
        time.sleep(0.05)
    server.kill9()
    before = _rows(db)
    phases_at_kill = {
        p: sum(r["phase"] == p for r in before) for p in ("queued", "running", "done")
    }
    restarted = Server(db, kubeconfig, routes, extra)
    recovered = _wait_done(db, 600)
    rows = _rows(db)
    restarted.stop()
    return {
        "incidents": len(rows),
        "phases_at_kill": phases_at_kill,
        "after_restart": {s: sum(r["state"] == s for r in rows) for s in ("open", "failed")},
        "all_done": all(r["phase"] == "done" for r in rows),
        "diagnosed": sum(bool(r["diagnosed"]) for r in rows),
        "retried": sum(r["attempts"] > 1 for r in rows),
        "recovery_seconds": round(recovered, 1),
        "missing": sorted({f"crash-{n:02d}" for n in range(30)} - {r["fingerprint"] for r in rows}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, action="append", help="posts in flight")
    parser.add_argument("--no-crash", action="store_true", help="skip the kill -9 test")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="time each request's phases in the server (serve/trace.py, serve_trace.py)",
    )
    parser.add_argument("serve_options", nargs="*", help="more `paramedic serve` options")
    args = parser.parse_args()
    extra = tuple(args.serve_options)
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    with tempfile.TemporaryDirectory(prefix="paramedic-serve-bench-") as name:
        tmp = Path(name)
        kubeconfig = tmp / "kubeconfig"
        cluster = spawn.Process(target=_cluster, args=(str(kubeconfig), stop), daemon=True)
        cluster.start()
        while not kubeconfig.exists():
            time.sleep(0.05)
        routes = tmp / "routes.yaml"
        routes.write_text(ROUTES)
        fast = all(importlib.util.find_spec(m) for m in ("httptools", "uvloop"))
        if not fast:
            print("httptools/uvloop missing: pip install -c constraints.txt -e .", file=sys.stderr)
        results: dict[str, Any] = {
            "load_average_at_start": os.getloadavg()[0],
            "httptools_and_uvloop": fast,
            "serve_options": list(extra),
            "bursts": [
                burst(tmp, kubeconfig, routes, n, extra, args.trace)
                for n in args.concurrency or CONCURRENCY
            ],
        }
        if not args.no_crash:
            results["crash"] = crash(tmp, kubeconfig, routes, extra)
        stop.set()
        cluster.join(timeout=10)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "serve.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    ok = True
    for b in results["bursts"]:
        ok = ok and not (b["lost"] or b["duplicated"] or b["not_closed"] or b["wrongly_closed"])
        print(
            f"burst at concurrency {b['concurrency']}: {b['posts']} posts, p50 {b['p50_ms']} ms,"
            f" p99 {b['p99_ms']} ms, max {b['max_ms']} ms, server CPU"
            f" {b['server_cpu_ms_per_post']} ms/post, RSS peak {b['rss_peak_mib']} MiB,"
            f" load average {b['load_average_1min'][0]}-{b['load_average_1min'][1]}"
        )
    if "crash" in results:
        c = results["crash"]
        ok = ok and c["all_done"] and not c["missing"] and c["incidents"] == 30
        print(f"crash: {c['incidents']}/30 kept, {c['retried']} retried")
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
