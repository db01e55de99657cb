"""Which fix `diagnose --apply` may apply, decided from the diagnosis alone (no I/O).

Only a fix that can do nothing but open the blocked flow is applied for you: the top cause is
a NetworkPolicy block found with high confidence (no evidence it needed was missing); its fix
creates new `networking.k8s.io/v1` NetworkPolicies (it edits nothing the user owns); the
policy engine found that the patched cluster allows the flow; and its blast radius closes no
flow (a new policy that isolated a pod nothing selected before would). Everything else (a SQL
statement, a restart, an edit of a user's object, a Calico or Cilium policy) is printed, as
always, for a person to run. The objects are applied as planned, with one label and one
annotation that say who made them and for which incident, so that
`kubectl get networkpolicy -l app.kubernetes.io/managed-by=paramedic` finds them later.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic import errors
from paramedic.checks import model
from paramedic.runbooks import diagnosis

APPLIED_BY = "app.kubernetes.io/managed-by"
FOR_INCIDENT = "paramedic.io/incident"
CHECK = "network-policy"
KINDS = {("networking.k8s.io/v1", "NetworkPolicy")}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The objects to create for the top cause, labelled; `check` must be ruled out after."""

    check: str
    objects: tuple[Mapping[str, Any], ...]

    def describe(self) -> str:
        return ", ".join(
            f"{o['kind']} {o['metadata']['namespace']}/{o['metadata']['name']}"
            for o in self.objects
        )


def plan(result: diagnosis.Diagnosis) -> Plan:
    """The plan for the top cause's fix; raises InputError (one line) when --apply may not."""
    if not result.causes:
        raise errors.InputError("--apply: no cause found, nothing to apply")
    top = result.causes[0]
    if top.check != CHECK or top.fix is None:
        raise errors.InputError(
            f"--apply applies only NetworkPolicy fixes; the top cause is {top.check}:"
            " run its fix yourself"
        )
    if top.confidence is not model.Confidence.HIGH:
        raise errors.InputError(
            f"--apply: the cause is of {top.confidence} confidence (evidence was missing);"
            " not applied"
        )
    patch = top.details.get("patch")
    if not isinstance(patch, Mapping) or not patch.get("opens_flow"):
        raise errors.InputError("--apply: the fix was not shown to open the flow; not applied")
    if patch.get("closes"):
        raise errors.InputError(
            f"--apply: the fix would also close {len(patch['closes'])} flow(s); not applied"
            " (review it and apply it yourself)"
        )
    actions = [step.action for step in top.fix.steps]
    objects = [a["object"] for a in actions if a.get("op") == "create" and _creatable(a)]
    if not actions or len(objects) != len(actions):
        raise errors.InputError(
            "--apply only creates NetworkPolicies; this fix does more (an edit of your own"
            " policy, or another policy kind): run it yourself"
        )
    incident = f"{result.incident.get('source')} -> {result.incident.get('target')}"
    return Plan(check=top.check, objects=tuple(_labelled(o, incident) for o in objects))


def _creatable(action: Mapping[str, Any]) -> bool:
    obj = action.get("object")
    if not isinstance(obj, Mapping) or (obj.get("apiVersion"), obj.get("kind")) not in KINDS:
        return False
    meta = obj.get("metadata")
    return isinstance(meta, Mapping) and bool(meta.get("name")) and bool(meta.get("namespace"))


def _labelled(obj: Mapping[str, Any], incident: str) -> dict[str, Any]:
    meta = dict(obj["metadata"])
    meta["labels"] = {**dict(meta.get("labels") or {}), APPLIED_BY: "paramedic"}
    meta["annotations"] = {**dict(meta.get("annotations") or {}), FOR_INCIDENT: incident}
    return {**dict(obj), "metadata": meta}
