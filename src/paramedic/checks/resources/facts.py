"""Resource signals of the database pods, for the `resources` check (FAILURE-FACTS §5).

Per pod: OOM kills and restarts (containerStatuses), usage against limits (PodMetrics of
metrics.k8s.io), eviction (phase Failed, reason Evicted), pressure conditions of its node, and
PostgreSQL log lines of memory exhaustion, crash recovery and slow statements. `resize` turns
observed usage into concrete new numbers. Not a check: helpers of checks/resources.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from paramedic import errors
from paramedic.checks import logindex, model
from paramedic.evidence import logscan
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, quantities

Obj = Mapping[str, Any]
NEAR_LIMIT = Decimal("0.9")
SLOW_MS = 1000.0
_DB_LINES = (
    logindex.line_pattern(
        "oom",
        r"out of memory|could not fork new process|terminated by signal 9|"
        r"Cannot allocate memory",
    ),
    logindex.line_pattern(
        "recovery",
        r"the database system is in recovery mode|all server processes terminated; "
        r"reinitializing|database system was interrupted",
    ),
)
_SLOW = logindex.line_pattern("statement-duration", r"duration: \d+(?:\.\d+)? ms")
_DURATION = logscan.compile(r"duration: (\d+(?:\.\d+)?) ms")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    container: str
    cpu: Decimal | None
    memory: int | None
    cpu_limit: Decimal | None
    memory_limit: int | None
    cpu_request: Decimal | None
    memory_request: int | None

    def ratio(self, what: str) -> Decimal | None:
        used, limit = (
            (self.cpu, self.cpu_limit) if what == "cpu" else (self.memory, self.memory_limit)
        )
        return Decimal(used) / Decimal(limit) if used is not None and limit else None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PodSignals:
    pod: Obj
    oom: tuple[model.Cite, ...] = ()
    killed: tuple[model.Cite, ...] = ()
    """SIGKILL (exit 137) without reason OOMKilled: a liveness kill as likely as memory."""
    restarts: int = 0
    evicted: model.Cite | None = None
    pressure: tuple[model.Cite, ...] = ()
    usage: tuple[Usage, ...] = ()
    has_metrics: bool = False
    log_hits: Mapping[str, tuple[model.Cite, ...]] = dataclasses.field(default_factory=dict)
    slow: tuple[model.Cite, ...] = ()


def _q(value: Any, reader: Any) -> Any:
    try:
        return reader(value) if value not in (None, "") else None
    except errors.InputError:
        return None


def usage_of(ev: evidence_model.Evidence, pod: Obj) -> tuple[tuple[Usage, ...], bool]:
    ns, name = objects.namespace(pod), objects.name(pod)
    metrics = next(
        (
            m
            for m in ev.metrics
            if m.get("kind") == "PodMetrics"
            and objects.namespace(m) == ns
            and objects.name(m) == name
        ),
        None,
    )
    used = {
        str(c.get("name")): objects.as_dict(c.get("usage"))
        for c in objects.as_list((metrics or {}).get("containers"))
        if isinstance(c, dict)
    }
    out = []
    for c in pods.containers(pod):
        res = objects.as_dict(c.get("resources"))
        lim, req = objects.as_dict(res.get("limits")), objects.as_dict(res.get("requests"))
        u = used.get(str(c.get("name")), {})
        out.append(
            Usage(
                container=str(c.get("name")),
                cpu=_q(u.get("cpu"), quantities.cpu_cores),
                memory=_q(u.get("memory"), quantities.bytes_),
                cpu_limit=_q(lim.get("cpu"), quantities.cpu_cores),
                memory_limit=_q(lim.get("memory"), quantities.bytes_),
                cpu_request=_q(req.get("cpu"), quantities.cpu_cores),
                memory_request=_q(req.get("memory"), quantities.bytes_),
            )
        )
    return tuple(out), metrics is not None


def signals(ev: evidence_model.Evidence, pod: Obj) -> PodSignals:
    ref, st = objects.ref(pod), objects.status(pod)
    oom: list[model.Cite] = []
    killed: list[model.Cite] = []
    restarts = 0
    for cs in pods.container_statuses(pod):
        restarts += objects.as_int(cs.get("restartCount"))
        for which in ("lastState", "state"):
            term = objects.as_dict(objects.as_dict(cs.get(which)).get("terminated"))
            if term.get("reason") == "OOMKilled" or (term and term.get("exitCode") == 137):
                (oom if term.get("reason") == "OOMKilled" else killed).append(
                    model.Cite(
                        text=f"container {cs.get('name')} "
                        f"{'was' if which == 'lastState' else 'is'} "
                        f"{term.get('reason') or 'killed'} (exit {term.get('exitCode')}) at "
                        f"{term.get('finishedAt') or '?'}; {cs.get('restartCount', 0)} restart(s)",
                        source=ref,
                    )
                )
    evicted = None
    if pods.phase(pod) == "Failed" and st.get("reason") == "Evicted":
        evicted = model.Cite(text=f"Evicted: {st.get('message') or ''}".strip(), source=ref)
    pressure = []
    node = ev.get("Node", None, str(objects.spec(pod).get("nodeName") or "")) or {}
    for cond in objects.as_list(objects.status(node).get("conditions")):
        if (
            isinstance(cond, dict)
            and cond.get("type") in ("MemoryPressure", "DiskPressure", "PIDPressure")
            and cond.get("status") == "True"
        ):
            since = cond.get("lastTransitionTime", "?")
            detail = f" ({cond.get('message')})" if cond.get("message") else ""
            pressure.append(
                model.Cite(
                    text=f"node {objects.name(node)}: {cond['type']}=True since {since}{detail}",
                    source=objects.ref(node),
                )
            )
    hits: dict[str, list[model.Cite]] = {}
    slow = []
    ns, name = objects.namespace(pod), objects.name(pod)
    for container, (lines, found) in sorted(logindex.pod_hits(ev, ns, name).items()):
        for index in sorted(found):
            line, names = lines[index], found[index].names
            source = f"log {ns}/{name}/{container}:{index + 1}"
            for kind in _DB_LINES:
                if kind in names:
                    hits.setdefault(kind, []).append(
                        model.Cite(text=" ".join(line.split())[:180], source=source)
                    )
            d = _DURATION.search(line) if _SLOW in names else None
            if d and float(d.group(1)) >= SLOW_MS:
                slow.append(model.Cite(text=" ".join(line.split())[:180], source=source))
    usage, has_metrics = usage_of(ev, pod)
    return PodSignals(
        pod=pod,
        oom=tuple(oom),
        killed=tuple(killed),
        restarts=restarts,
        evicted=evicted,
        pressure=tuple(pressure),
        usage=usage,
        has_metrics=has_metrics,
        log_hits={k: tuple(v) for k, v in hits.items()},
        slow=tuple(slow),
    )


def usage_cites(sig: PodSignals) -> list[model.Cite]:
    out = []
    for u in sig.usage:
        parts = []
        if u.memory is not None:
            lim = (
                f" of {quantities.human_bytes(u.memory_limit)} limit ({u.ratio('memory'):.0%})"
                if u.memory_limit
                else " (no limit)"
            )
            parts.append(f"memory {quantities.human_bytes(u.memory)}{lim}")
        if u.cpu is not None:
            lim = (
                f" of {quantities.format_cpu(u.cpu_limit)} limit ({u.ratio('cpu'):.0%})"
                if u.cpu_limit
                else " (no limit)"
            )
            parts.append(f"cpu {quantities.format_cpu(u.cpu)}{lim}")
        if parts:
            out.append(
                model.Cite(
                    text=f"{objects.name(sig.pod)}/{u.container}: " + ", ".join(parts),
                    source=f"PodMetrics {objects.namespace(sig.pod)}/{objects.name(sig.pod)}",
                )
            )
    return out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Resize:
    container: str
    limits: Mapping[str, str]
    requests: Mapping[str, str]
    old_limits: Mapping[str, str]
    old_requests: Mapping[str, str]


def resize(
    sigs: Sequence[PodSignals], *, memory: bool, cpu: bool, requests_only: bool = False
) -> Resize | None:
    """New numbers for the busiest container: limit = max(current x 1.5, usage x 1.3), rounded up;
    requests follow when they equalled the limit (Guaranteed QoS) or sat below usage."""
    best: Usage | None = None
    for sig in sigs:
        for u in sig.usage:
            if best is None or (u.memory or 0) > (best.memory or 0):
                best = u
    if best is None:
        return None
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    old_l: dict[str, str] = {}
    old_r: dict[str, str] = {}
    if memory:
        used = best.memory or best.memory_limit or best.memory_request
        cur = best.memory_limit or best.memory_request
        if used is None:
            return None
        new = quantities.round_up_bytes(
            max(
                Decimal(cur or used) * Decimal("1.5") if not requests_only else 0,
                Decimal(used) * Decimal("1.3"),
            )
        )
        if requests_only:
            requests["memory"] = quantities.format_bytes(new)
            if best.memory_limit and best.memory_limit < new:
                limits["memory"] = quantities.format_bytes(new)
        else:
            limits["memory"] = quantities.format_bytes(new)
            if (
                best.memory_request is None
                or best.memory_request == best.memory_limit
                or best.memory_request < used
            ):
                requests["memory"] = quantities.format_bytes(new)
        _old(best, "memory", old_l, old_r)
    if cpu and (best.cpu_limit or best.cpu):
        cur_cpu = best.cpu_limit or best.cpu or Decimal(0)
        new_cpu = quantities.round_up_cpu(
            max(cur_cpu * Decimal("1.5"), (best.cpu or Decimal(0)) * Decimal("1.3"))
        )
        limits["cpu"] = quantities.format_cpu(new_cpu)
        _old(best, "cpu", old_l, old_r)
    return Resize(
        container=best.container,
        limits=limits,
        requests=requests,
        old_limits=old_l,
        old_requests=old_r,
    )


def _old(u: Usage, what: str, old_l: dict[str, str], old_r: dict[str, str]) -> None:
    fmt = quantities.format_bytes if what == "memory" else quantities.format_cpu
    limit = u.memory_limit if what == "memory" else u.cpu_limit
    request = u.memory_request if what == "memory" else u.cpu_request
    if limit is not None:
        old_l[what] = fmt(limit)
    if request is not None:
        old_r[what] = fmt(request)
