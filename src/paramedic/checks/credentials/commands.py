"""The kubectl commands the credentials fixes share: restart the client workload (or its pods),
wait for the rollout, and read its logs for the authentication errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues
from paramedic.kube import objects

Obj = Mapping[str, Any]


def restart(template: Obj, pod_list: Sequence[Obj] = ()) -> str:
    ref = clues.workload_ref(template)
    if ref is not None and ref[0] in ("deployment", "statefulset", "daemonset"):
        return f"kubectl rollout restart {ref[0]}/{ref[2]} -n {ref[1]}"
    names = " ".join(objects.name(p) for p in pod_list) or objects.name(template)
    return f"kubectl delete pod {names} -n {objects.namespace(template)}"


def status(template: Obj) -> str:
    ref = clues.workload_ref(template)
    if ref is not None and ref[0] in ("deployment", "statefulset", "daemonset"):
        return f"kubectl rollout status {ref[0]}/{ref[2]} -n {ref[1]} --timeout=180s"
    return f"kubectl get pods -n {objects.namespace(template)}"


def log_target(template: Obj) -> str:
    ref = clues.workload_ref(template)
    return f"{ref[0]}/{ref[2]}" if ref else objects.name(template)


def logs_command(template: Obj, pod_list: Sequence[Obj]) -> str:
    ref = clues.workload_ref(template)
    target = (
        f"{ref[0]}/{ref[2]}"
        if ref
        else (objects.name(pod_list[0]) if pod_list else objects.name(template))
    )
    return (
        f"kubectl logs -n {objects.namespace(template)} {target} --all-containers --since=30m | "
        "grep -iE 'password authentication failed|pg_hba.conf|28P01'"
    )
