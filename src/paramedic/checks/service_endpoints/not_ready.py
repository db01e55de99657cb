"""Why the pods a Service selects are not ready (scheduling, waiting and terminated containers,
readiness-probe failure Events), most telling first, and the commands that show the rest."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import model
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods

Obj = Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Reasons:
    headline: str
    evidence: tuple[model.Cite, ...]
    fix: model.Fix


def not_ready_reasons(ev: evidence_model.Evidence, selected: Sequence[Obj]) -> Reasons:
    evidence: list[model.Cite] = []
    headline = ""
    for pod in selected[:3]:
        found = _pod_reasons(ev, pod)
        headline = headline or f"{objects.name(pod)}: {found[0][0]}"
        evidence += [
            model.Cite(text=f"{objects.name(pod)}: {text}", source=src) for text, src in found
        ]
    pod = selected[0]
    ns, name = objects.namespace(pod), objects.name(pod)
    container = (pods.containers(pod) or [{}])[0].get("name", "")
    fix = model.Fix(
        summary=f"Make the pods ready: see why {name} fails ({headline.split(': ', 1)[-1]})",
        steps=(
            model.FixStep(
                description="inspect the pod's events, last termination and logs",
                language="shell",
                content=f"kubectl describe pod {name} -n {ns}\nkubectl logs {name} -n {ns} -c "
                f"{container} --previous",
            ),
        ),
    )
    return Reasons(headline=headline, evidence=tuple(evidence), fix=fix)


def _pod_reasons(ev: evidence_model.Evidence, pod: Obj) -> list[tuple[str, str]]:
    """(reason, source) pairs, most telling first."""
    ref = objects.ref(pod)
    found: list[tuple[str, str]] = []
    st = objects.status(pod)
    if pods.phase(pod) == "Pending":
        for cond in objects.as_list(st.get("conditions")):
            if (
                isinstance(cond, dict)
                and cond.get("type") == "PodScheduled"
                and cond.get("status") == "False"
            ):
                found.append(
                    (f"Pending, not scheduled: {cond.get('message') or cond.get('reason')}", ref)
                )
    for cname, reason, message in pods.waiting_reasons(pod):
        found.append(
            (f"container {cname} waiting: {reason}" + (f" ({message})" if message else ""), ref)
        )
    for cs in pods.container_statuses(pod):
        last = objects.as_dict(objects.as_dict(cs.get("lastState")).get("terminated"))
        if last.get("reason"):
            found.append(
                (
                    f"container {cs.get('name')} last terminated: {last.get('reason')} (exit "
                    f"{last.get('exitCode')}), {cs.get('restartCount', 0)} restart(s)",
                    ref,
                )
            )
    for event in ev.kind("Event", objects.namespace(pod)):
        involved = objects.as_dict(event.get("involvedObject"))
        message = str(event.get("message") or "")
        if involved.get("name") == objects.name(pod) and message.startswith(
            "Readiness probe failed"
        ):
            count = event.get("count") or 1
            found.append((f"{message} (x{count})", objects.ref(event)))
    if not found:
        for cond in objects.as_list(st.get("conditions")):
            if isinstance(cond, dict) and cond.get("type") == "Ready":
                text = (
                    f"Ready={cond.get('status')} {cond.get('reason') or ''} "
                    f"{cond.get('message') or ''}"
                )
                found.append((text.strip(), ref))
    return found or [("not ready (no condition recorded)", ref)]
