"""Probe benchmark against real local services (not part of the test suite; needs root).

    .venv/bin/python benchmarks/probes_bench.py [--runs 50] [--hole-runs 3]

Starts the same real components as tests/probes (a TCP listener, dnsmasq, PostgreSQL 15 run as
the `postgres` user, a network namespace whose nftables drops TCP 5432) and measures:
- each probe against a healthy local service (budget: <= 100 ms),
- each probe against a black hole, at its default timeout and at 1 s (budget: timeout + 0.5 s),
- `runner.run_all` with healthy probes and black holes side by side (budget: deadline + 0.5 s).
Prints a Markdown table for docs/PERFORMANCE.md; exits 1 if any budget is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from paramedic.evidence import probes_file
from paramedic.probes import dns, postgres, runner, tcp
from paramedic.timeouts import DEFAULT
from probes import probefix_dns, probefix_netns, probefix_pg

ROWS: list[tuple[str, str, str, str, str, str]] = []
FAILED: list[str] = []


def measure(
    label: str,
    expected: str,
    budget_ms: float,
    runs: int,
    call: Callable[[], probes_file.ProbeResult],
) -> None:
    times, outcomes = [], set()
    for _ in range(runs):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
        outcomes.add(result.outcome)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    ok = outcomes == {expected} and times[-1] <= budget_ms
    if not ok:
        FAILED.append(label)
    verdict = "ok" if ok else "MISSED"
    ROWS.append(
        (
            label,
            "/".join(sorted(outcomes)),
            f"{statistics.median(times):.1f}",
            f"{p95:.1f}",
            f"{times[-1]:.1f}",
            f"<= {budget_ms:.0f} {verdict}",
        )
    )


@contextlib.contextmanager
def services() -> Iterator[dict[str, object]]:
    with contextlib.ExitStack() as stack:
        listener = socket.socket()
        stack.callback(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        zone = probefix_dns.zone()
        stack.callback(zone.stop)
        silent = probefix_dns.silent()
        stack.callback(silent.stop)
        template = probefix_pg.Template()
        stack.callback(template.remove)
        pg = probefix_pg.Server(template, name="bench").start()
        stack.callback(pg.stop)
        ns = probefix_netns.Netns()
        stack.callback(ns.remove)
        ns_pg = probefix_pg.Server(
            template, name="bench-ns", host=ns.address, netns=ns.name
        ).start()
        stack.callback(ns_pg.stop)
        ns.block("drop")
        yield {
            "listener": listener,
            "zone": zone,
            "silent": silent,
            "pg": pg,
            "ns": ns,
            "ns_pg": ns_pg,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--hole-runs", type=int, default=3)
    args = parser.parse_args()
    with services() as s:
        port = s["listener"].getsockname()[1]  # type: ignore[attr-defined]
        zone, silent = s["zone"], s["silent"]
        pg, ns, ns_pg = s["pg"], s["ns"], s["ns_pg"]
        assert isinstance(zone, probefix_dns.Dnsmasq) and isinstance(silent, probefix_dns.Dnsmasq)
        assert isinstance(pg, probefix_pg.Server) and isinstance(ns_pg, probefix_pg.Server)
        assert isinstance(ns, probefix_netns.Netns)

        measure(
            "tcp open (loopback listener)",
            "open",
            100,
            args.runs,
            lambda: tcp.probe("127.0.0.1", port, timeout=DEFAULT.tcp),
        )
        measure(
            "dns resolved (dnsmasq, A+AAAA)",
            "resolved",
            100,
            args.runs,
            lambda: dns.probe(
                "db.example.test", server=zone.host, port=zone.port, timeout=DEFAULT.dns
            ),
        )
        measure(
            "dns resolved via the search path (2nd name tried, ndots:5)",
            "resolved",
            100,
            args.runs,
            lambda: dns.probe(
                "profile-db.data",
                server=zone.host,
                port=zone.port,
                timeout=DEFAULT.dns,
                search=("a.svc.cluster.local", "svc.cluster.local"),
            ),
        )
        measure(
            "postgres ok (connect, SCRAM, limits + pg_stat_activity)",
            "ok",
            100,
            args.runs,
            lambda: postgres.probe(pg.dsn("app"), timeout=DEFAULT.postgres),
        )
        for timeout in (1.0, None):
            t_tcp = timeout or DEFAULT.tcp
            t_dns = timeout or DEFAULT.dns
            t_pg = timeout or DEFAULT.postgres
            measure(
                f"tcp black hole (nft drop), timeout {t_tcp:g} s",
                "timeout",
                (t_tcp + 0.5) * 1000,
                args.hole_runs,
                lambda t=t_tcp: tcp.probe(ns.address, 5432, timeout=t),
            )
            measure(
                f"dns black hole (silent dnsmasq), timeout {t_dns:g} s",
                "timeout",
                (t_dns + 0.5) * 1000,
                args.hole_runs,
                lambda t=t_dns: dns.probe(
                    "db.example.test", server=silent.host, port=silent.port, timeout=t
                ),
            )
            measure(
                f"postgres black hole (nft drop), timeout {t_pg:g} s",
                "timeout",
                (t_pg + 0.5) * 1000,
                args.hole_runs,
                lambda t=t_pg: postgres.probe(ns_pg.dsn("app"), timeout=t),
            )
        specs = (
            [runner.tcp_spec("127.0.0.1", port) for _ in range(5)]
            + [
                runner.dns_spec("db.example.test", server=zone.host, port=zone.port)
                for _ in range(5)
            ]
            + [runner.postgres_spec(pg.dsn("app")) for _ in range(3)]
            + [
                runner.tcp_spec(ns.address, 5432),
                runner.postgres_spec(ns_pg.dsn("app")),
                runner.dns_spec("db.example.test", server=silent.host, port=silent.port),
            ]
        )
        began = time.perf_counter()
        results = runner.run_all(specs, deadline=DEFAULT.total)
        wall = (time.perf_counter() - began) * 1000
        slowest = max(spec.timeout for spec in specs)
        ok = wall <= (slowest + 0.5) * 1000 and len(results) == len(specs)
        if not ok:
            FAILED.append("run_all")
        outcomes = sorted({r.outcome for r in results})
        ROWS.append(
            (
                f"run_all: {len(specs)} probes (13 healthy, 3 black holes)",
                "/".join(outcomes),
                f"{wall:.1f}",
                "-",
                f"{wall:.1f}",
                f"<= {(slowest + 0.5) * 1000:.0f} {'ok' if ok else 'MISSED'}",
            )
        )

    print(
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; runs: {args.runs} healthy, "
        f"{args.hole_runs} per black hole\n"
    )
    print("| probe | outcome | median ms | p95 ms | max ms | budget ms |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")
    if FAILED:
        print(f"\nMISSED: {', '.join(FAILED)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
