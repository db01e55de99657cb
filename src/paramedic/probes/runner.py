"""Run several probes at once under one overall deadline.

Gathering asks many questions at once (the Service's DNS name, its ClusterIP, each endpoint,
the database): they run concurrently in a thread pool, each with its own timeout cut down to
what is left of the deadline, so the whole batch takes about as long as its slowest probe and
never longer than the deadline plus half a second. A probe that has not answered by then
becomes a "timeout" result (it keeps running in the background only until its own limit).
Results come back in the order of `specs`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paramedic.evidence import probes_file
from paramedic.probes import common, dns, outcomes, postgres, tcp
from paramedic.timeouts import DEFAULT

MAX_WORKERS = 32


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """One probe to run: `call(timeout)` performs it; `kind`/`target` label a timeout result."""

    kind: str
    target: str
    timeout: float
    call: Callable[[float], probes_file.ProbeResult]


def tcp_spec(host: str, port: int, *, timeout: float = DEFAULT.tcp) -> Spec:
    return Spec(
        kind="tcp",
        target=f"{host}:{port}",
        timeout=timeout,
        call=lambda t: tcp.probe(host, port, timeout=t),
    )


def dns_spec(
    name: str,
    *,
    server: str | None = None,
    port: int = 53,
    timeout: float = DEFAULT.dns,
    search: Sequence[str] = (),
    ndots: int = 5,
) -> Spec:
    where = (f" @{server}" if port == 53 else f" @{server}:{port}") if server else ""
    return Spec(
        kind="dns",
        target=f"{name}{where}",
        timeout=timeout,
        call=lambda t: dns.probe(
            name, server=server, port=port, timeout=t, search=tuple(search), ndots=ndots
        ),
    )


def postgres_spec(
    dsn_or_params: str | Mapping[str, Any],
    *,
    timeout: float = DEFAULT.postgres,
    password: str | None = None,
) -> Spec:
    target = postgres.redacted_target(postgres.parse(dsn_or_params))
    return Spec(
        kind="postgres",
        target=target,
        timeout=timeout,
        call=lambda t: postgres.probe(dsn_or_params, timeout=t, password=password),
    )


def run_all(specs: Sequence[Spec], *, deadline: float) -> list[probes_file.ProbeResult]:
    """Every spec's result, in order, within `deadline` seconds (from now) plus 0.5 s."""
    clock = common.Clock(common.check_timeout(deadline))
    if not specs:
        return []
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=min(MAX_WORKERS, len(specs)), thread_name_prefix="paramedic-probe"
    )
    started: dict[int, float] = {}
    lock = threading.Lock()

    def run(index: int, spec: Spec) -> probes_file.ProbeResult:
        with lock:
            started[index] = clock.elapsed_ms()
        left = clock.left()
        if left <= 0:
            why = f"the overall deadline passed first ({clock.timeout:g} s)"
            return _unfinished(spec, clock, started[index], "timeout", why)
        return spec.call(min(spec.timeout, left))

    futures = [pool.submit(run, i, spec) for i, spec in enumerate(specs)]
    concurrent.futures.wait(futures, timeout=clock.left() + 0.4)
    pool.shutdown(wait=False, cancel_futures=True)
    results = []
    for index, (spec, future) in enumerate(zip(specs, futures, strict=True)):
        if future.done() and not future.cancelled() and future.exception() is None:
            results.append(future.result())
            continue
        with lock:
            began = started.get(index, clock.elapsed_ms())
        if future.done() and not future.cancelled():
            error = future.exception()
            failed = "error" if spec.kind == "postgres" else "timeout"
            why = f"probe failed: {type(error).__name__}: {error}"
            results.append(_unfinished(spec, clock, began, failed, why))
        else:
            why = f"no result before the overall deadline ({clock.timeout:g} s)"
            results.append(_unfinished(spec, clock, began, "timeout", why))
    return results


def _unfinished(
    spec: Spec, clock: common.Clock, began_ms: float, outcome: str, detail: str
) -> probes_file.ProbeResult:
    """The result of a probe that returned none: it raised, or the deadline came first."""
    return probes_file.ProbeResult(
        kind=spec.kind,
        target=spec.target,
        outcome=outcomes.BY_KIND[spec.kind](outcome),
        elapsed_ms=max(0.0, clock.elapsed_ms() - began_ms),
        detail=detail,
        at=common.now_iso(),
    )
