"""The fix `resources` proposes: `kubectl set resources` on the database's workload with limits and
requests derived from observed usage (`facts.resize`), the same change as a manifest, and its
rollback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.resources import facts
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects


def resize(
    ev: evidence_model.Evidence,
    sigs: Sequence[facts.PodSignals],
    *,
    memory: bool,
    cpu: bool,
    why: str,
    requests_only: bool = False,
) -> model.Remedy:
    pod = sigs[0].pod
    ns = objects.namespace(pod)
    owner = clues.owner_workload(ev, pod)
    plan = facts.resize(sigs, memory=memory, cpu=cpu, requests_only=requests_only)
    kind = str(owner.get("kind", "")).lower() if owner else ""
    target = (
        f"{kind}/{objects.name(owner)}"
        if owner and kind in ("statefulset", "deployment", "daemonset")
        else ""
    )
    if owner is None or plan is None or not target or not (plan.limits or plan.requests):
        return model.Remedy(
            why=why,
            verify=f"kubectl top pod -n {ns} --containers  # expect usage below 80% of each limit",
            fix=model.Fix(
                summary="Give the database container memory/CPU that covers its real usage"
            ),
        )
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
    return model.Remedy(
        fix=model.Fix(
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
        why=why,
        verify=(
            f"kubectl rollout status {target} -n {ns} --timeout=300s && {top_cmd(ns, pod)}"
            "  # expect usage below 80% of the new limit and restartCount no longer rising"
        ),
    )


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
