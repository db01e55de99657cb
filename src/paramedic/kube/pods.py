"""Pod facts: readiness, containers, IPs, and workload -> ReplicaSet -> pod ownership."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.kube import objects, selectors

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def containers(pod_or_template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The regular containers of a Pod, or of a workload's pod template."""
    spec = pod_spec(pod_or_template)
    return [c for c in objects.as_list(spec.get("containers")) if isinstance(c, dict)]


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """spec of a Pod, or spec.template.spec of a workload (CronJob: its jobTemplate)."""
    spec = objects.spec(obj)
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = objects.as_dict(objects.as_dict(spec.get("jobTemplate")).get("spec"))
    return objects.as_dict(objects.as_dict(spec.get("template")).get("spec"))


def template_labels(workload: Mapping[str, Any]) -> dict[str, str]:
    template = objects.as_dict(objects.spec(workload).get("template"))
    return objects.labels(template)


def is_ready(pod: Mapping[str, Any]) -> bool:
    """The Pod's Ready condition is True (and it is not terminating)."""
    if objects.meta(pod).get("deletionTimestamp"):
        return False
    for cond in objects.as_list(objects.status(pod).get("conditions")):
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def phase(pod: Mapping[str, Any]) -> str:
    return str(objects.status(pod).get("phase") or "Unknown")


def ip(pod: Mapping[str, Any]) -> str | None:
    value = objects.status(pod).get("podIP")
    return str(value) if value else None


def container_statuses(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    st = objects.status(pod)
    return [
        s
        for key in ("initContainerStatuses", "containerStatuses")
        for s in objects.as_list(st.get(key))
        if isinstance(s, dict)
    ]


def waiting_reasons(pod: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(container, reason, message) for every container stuck waiting."""
    found = []
    for cs in container_statuses(pod):
        waiting = objects.as_dict(objects.as_dict(cs.get("state")).get("waiting"))
        if waiting.get("reason"):
            found.append(
                (str(cs.get("name", "")), str(waiting["reason"]), str(waiting.get("message", "")))
            )
    return found


def owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """Whether `obj` lists `owner` in its ownerReferences (by uid, else by kind and name)."""
    owner_uid = objects.meta(owner).get("uid")
    for ref in objects.as_list(objects.meta(obj).get("ownerReferences")):
        if not isinstance(ref, dict):
            continue
        if owner_uid and ref.get("uid"):
            if ref.get("uid") == owner_uid:
                return True
        elif ref.get("kind") == owner.get("kind") and ref.get("name") == objects.name(owner):
            return True
    return False


def pods_of_workload(
    workload: Mapping[str, Any],
    pods: Iterable[Mapping[str, Any]],
    replicasets: Iterable[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Pods that belong to a workload: through ownerReferences (Deployment -> ReplicaSet -> Pod),
    falling back to the workload's selector when the evidence has no owner links."""
    ns = objects.namespace(workload)
    same_ns = [p for p in pods if objects.namespace(p) == ns]
    owners: list[Mapping[str, Any]] = [workload]
    if workload.get("kind") == "Deployment":
        owners += [
            rs for rs in replicasets if objects.namespace(rs) == ns and owned_by(rs, workload)
        ]
    owned = [dict(p) for p in same_ns if any(owned_by(p, o) for o in owners)]
    if owned:
        return owned
    selector = objects.spec(workload).get("selector")
    if isinstance(selector, dict):
        return [dict(p) for p in same_ns if selectors.matches(selector, objects.labels(p))]
    return []


def owner_workload(
    pod: Mapping[str, Any],
    workloads: Iterable[Mapping[str, Any]],
    replicasets: Iterable[Mapping[str, Any]] = (),
) -> Mapping[str, Any] | None:
    """The Deployment/StatefulSet/DaemonSet/Job a pod belongs to, if the evidence has it."""
    ns = objects.namespace(pod)
    candidates = [w for w in workloads if objects.namespace(w) == ns]
    for rs in replicasets:
        if objects.namespace(rs) == ns and owned_by(pod, rs):
            for w in candidates:
                if w.get("kind") == "Deployment" and owned_by(rs, w):
                    return w
            return rs
    for w in candidates:
        if owned_by(pod, w):
            return w
    return None
