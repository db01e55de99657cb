"""Check `resources`: are the database pods OOM-killed, evicted, starved, or on a node under
pressure?

A memory limit is enforced by the kernel's OOM killer (exit 137); when a PostgreSQL backend is
killed the postmaster ends every session and runs crash recovery, so clients see resets and
"the database system is in recovery mode". A CPU limit is enforced by throttling: slow queries,
timeouts. Evidence: containerStatuses, PodMetrics, Node conditions, PostgreSQL logs. The fix is
`kubectl set resources` with numbers derived from observed usage (see resource_facts.resize).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model, registry, resource_facts
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects

_ID = "resources"
_CLIENT_MEANINGS = ("db-not-ready", "db-crashed", "conn-reset")


@registry.check(
    _ID,
    title="The database pods have the memory and CPU they need",
    needs=("Pod", "Node", "StatefulSet", "Deployment", "metrics", "logs"),
)
def run(ctx: model.Context) -> model.Finding:
    ev, scope = ctx.evidence, ctx.scope
    db_pods = list(scope.target_pods)
    if not db_pods:
        if scope.external:
            summary = (
                f"{scope.target} runs outside the cluster: its memory and CPU cannot be seen here"
            )
            missing = "the database host's memory/CPU metrics and its log (out of memory, signal 9)"
        else:
            summary = (
                f"{scope.target} selects no pod, so the database pods cannot be identified (see "
                "service-endpoints)"
            )
            missing = f"kubectl get pods -n {scope.target_namespace} --show-labels"
        return _finding(model.Verdict.INCONCLUSIVE, model.Confidence.LOW, summary, missing=missing)
    sigs = [resource_facts.signals(ev, p) for p in db_pods]
    oom = [c for s in sigs for c in (*s.oom, *s.log_hits.get("oom", ()))]
    recovery = sorted(
        (c for s in sigs for c in s.log_hits.get("recovery", ())),
        key=lambda c: "recovery mode" not in c.text,  # the line clients also see, first
    )[:2]
    evicted = [s.evicted for s in sigs if s.evicted]
    pressure = list({c.text: c for s in sigs for c in s.pressure}.values())
    usage = [c for s in sigs for c in resource_facts.usage_cites(s)]
    hot = {
        w: [s for s in sigs for u in s.usage if (u.ratio(w) or 0) >= resource_facts.NEAR_LIMIT]
        for w in ("memory", "cpu")
    }
    slow = [c for s in sigs for c in s.slow]
    killed = [c for s in sigs for c in s.killed]
    client = [
        c.cite("client: ")
        for c in clues.first_per_pod(
            clues.log_clues(ev, scope.source_pods), _CLIENT_MEANINGS, limit=2
        )
    ]
    has_metrics = any(s.has_metrics for s in sigs)
    top = f"kubectl top pod -n {objects.namespace(db_pods[0])} --containers"
    missing = "" if has_metrics else f"current usage (needs metrics-server): {top}"
    restarts = sum(s.restarts for s in sigs)

    if oom:
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.HIGH,
            f"{_names(sigs, lambda s: bool(s.oom or s.log_hits.get('oom')))} ran out of memory "
            f"(OOM kill, exit 137; {restarts} restart(s)): PostgreSQL drops every session and "
            "recovers after each kill",
            evidence=(*oom[:3], *usage, *recovery[:1], *slow[:1], *recovery[1:], *client),
            priority=20,
            missing=missing,
            **_resize_fix(
                ev,
                sigs,
                memory=True,
                cpu=False,
                why=(
                    "The memory limit is enforced by the kernel's OOM killer. When it kills a "
                    "PostgreSQL backend the postmaster terminates all sessions and runs crash "
                    "recovery, so clients get resets and 'the database system is in recovery "
                    "mode' until it is back."
                ),
            ),
        )
    if evicted or pressure:
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.HIGH if evicted else model.Confidence.MEDIUM,
            f"{len(evicted)} database pod(s) evicted"
            if evicted
            else f"the database pod's node is under pressure ({_conditions(pressure)})",
            evidence=(*evicted[:3], *pressure, *usage, *client),
            priority=25,
            missing=missing,
            **_resize_fix(
                ev,
                sigs,
                memory=True,
                cpu=False,
                requests_only=True,
                why=(
                    "Under node pressure the kubelet evicts pods whose usage exceeds their "
                    "requests first; requests that cover real usage keep the database off the "
                    "eviction list and make the scheduler place it on a node with room."
                ),
            ),
        )
    if hot["cpu"] and slow:
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.MEDIUM,
            f"{_names(hot['cpu'])} run at their CPU limit and PostgreSQL logs slow statements: "
            "throttling is likely",
            evidence=(*usage, *slow[:3], *client),
            priority=45,
            **_resize_fix(
                ev,
                hot["cpu"],
                memory=False,
                cpu=True,
                why=(
                    "A CPU limit is enforced by CFS throttling: at the limit every query waits "
                    "for the next period, so statements slow down and clients time out."
                ),
            ),
        )
    if hot["memory"] or hot["cpu"] or slow or killed:
        what = [
            f"{len(killed)} SIGKILL(s) (exit 137) without reason OOMKilled: a liveness-probe kill "
            "or memory - see the pod's events"
            if killed
            else "",
            f"memory at >= 90% of its limit ({_names(hot['memory'])})" if hot["memory"] else "",
            f"CPU at >= 90% of its limit ({_names(hot['cpu'])})" if hot["cpu"] else "",
            f"{len(slow)} slow statement(s) >= {resource_facts.SLOW_MS:.0f} ms" if slow else "",
        ]
        return _finding(
            model.Verdict.WARNING,
            model.Confidence.MEDIUM,
            "warning signs in the database's resources: " + "; ".join(w for w in what if w),
            evidence=(*killed[:2], *usage, *slow[:3]),
            missing="why the container was killed: kubectl describe pod "
            f"{objects.name(db_pods[0])} -n {objects.namespace(db_pods[0])}"
            if killed
            else "",
            **_resize_fix(
                ev,
                hot["memory"] or hot["cpu"] or sigs,
                memory=bool(hot["memory"]),
                cpu=bool(hot["cpu"]),
                why="Usage this close to a limit ends in an OOM kill (memory) or throttling (CPU) "
                "at the next peak.",
            ),
        )
    return _finding(
        model.Verdict.RULED_OUT,
        model.Confidence.HIGH if has_metrics else model.Confidence.MEDIUM,
        f"no OOM kill, eviction or node pressure for {_names(sigs)}"
        + (
            "; usage is below 90% of every limit"
            if has_metrics
            else "; no metrics to compare with limits"
        ),
        evidence=(
            model.Cite(text=f"{restarts} restart(s) in total", source=objects.ref(db_pods[0])),
            *usage,
        ),
        missing=missing,
    )


def _conditions(pressure: Sequence[model.Cite]) -> str:
    """'MemoryPressure, DiskPressure' from the pressure citations."""
    return ", ".join(c.text.split(": ")[1].split("=")[0] for c in pressure)


def _names(sigs: Sequence[resource_facts.PodSignals], keep: Any = None) -> str:
    names = sorted({objects.name(s.pod) for s in sigs if keep is None or keep(s)})
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _resize_fix(
    ev: evidence_model.Evidence,
    sigs: Sequence[resource_facts.PodSignals],
    *,
    memory: bool,
    cpu: bool,
    why: str,
    requests_only: bool = False,
) -> dict[str, Any]:
    pod = sigs[0].pod
    ns = objects.namespace(pod)
    owner = clues.owner_workload(ev, pod)
    plan = resource_facts.resize(sigs, memory=memory, cpu=cpu, requests_only=requests_only)
    kind = str(owner.get("kind", "")).lower() if owner else ""
    target = (
        f"{kind}/{objects.name(owner)}"
        if owner and kind in ("statefulset", "deployment", "daemonset")
        else ""
    )
    if owner is None or plan is None or not target or not (plan.limits or plan.requests):
        return {
            "why": why,
            "verify": f"kubectl top pod -n {ns} --containers",
            "fix": model.Fix(
                summary="Give the database container memory/CPU that covers its real usage"
            ),
        }
    command = _set_resources(target, ns, plan.container, plan.limits, plan.requests)
    manifest = (
        f"spec:\n  template:\n    spec:\n      containers:\n      - name: {plan.container}\n      "
        "  resources:\n"
        + _yaml_block("limits", plan.limits)
        + _yaml_block("requests", plan.requests)
    )
    said = ", ".join(f"{k} limit {v}" for k, v in plan.limits.items()) or ", ".join(
        f"{k} request {v}" for k, v in plan.requests.items()
    )
    return {
        "fix": model.Fix(
            summary=f"Raise {target}'s {plan.container} container to {said}",
            steps=(
                model.FixStep(
                    description="new limits/requests from observed usage (rolls the pods: a short "
                    "database restart)",
                    language="shell",
                    content=command,
                    action={
                        "op": "set-resources",
                        "target": f"{owner.get('kind')} {ns}/{objects.name(owner)}",
                        "container": plan.container,
                        "limits": dict(plan.limits),
                        "requests": dict(plan.requests),
                    },
                ),
                model.FixStep(
                    description="the same change for the manifest in version control",
                    language="yaml",
                    content=manifest,
                ),
            ),
            alternatives=(
                "keep shared_buffers + work_mem x max_connections well below the memory limit "
                "(PostgreSQL does not know about the cgroup limit)",
            )
            if memory
            else (),
            rollback=_set_resources(target, ns, plan.container, plan.old_limits, plan.old_requests)
            if plan.old_limits or plan.old_requests
            else "",
        ),
        "why": why,
        "verify": (
            f"kubectl rollout status {target} -n {ns} --timeout=300s && {top_cmd(ns, pod)} (usage "
            "below 80% of the new limit; restartCount stops rising)"
        ),
    }


def top_cmd(ns: str, pod: Mapping[str, Any]) -> str:
    return f"kubectl top pod {objects.name(pod)} -n {ns} --containers"


def _set_resources(
    target: str, ns: str, container: str, limits: Mapping[str, str], requests: Mapping[str, str]
) -> str:
    parts = [f"kubectl set resources {target} -n {ns} -c {container}"]
    if limits:
        parts.append("--limits=" + ",".join(f"{k}={v}" for k, v in sorted(limits.items())))
    if requests:
        parts.append("--requests=" + ",".join(f"{k}={v}" for k, v in sorted(requests.items())))
    return " ".join(parts)


def _yaml_block(name: str, values: Mapping[str, str]) -> str:
    if not values:
        return ""
    return f"          {name}:\n" + "".join(
        f"            {k}: {v}\n" for k, v in sorted(values.items())
    )


def _finding(
    verdict: model.Verdict, confidence: model.Confidence, summary: str, **kwargs: Any
) -> model.Finding:
    return model.Finding(
        check=_ID,
        title="Database resources",
        verdict=verdict,
        confidence=confidence,
        summary=summary,
        **kwargs,
    )
