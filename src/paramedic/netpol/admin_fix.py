"""Fixes in the admin tier's own terms: what opens a flow an AdminNetworkPolicy Deny closes.

A NetworkPolicy cannot beat an admin Deny (the admin tier is evaluated first), so:

- preferred: a new AdminNetworkPolicy at a *higher* precedence (a lower priority number than the
  denying policy's; equal priorities are ambiguous by the API's own words) whose subject is the
  blocked pod's workload and whose one Allow rule admits exactly the other end on the exact port;
- alternative: in the denying policy itself, an Allow rule with the same narrow peer and port
  inserted *before* the Deny rule (a JSON patch, `kubectl patch adminnetworkpolicy`).

A baseline (BANP) Deny needs neither: a NetworkPolicy selecting the pod takes precedence over the
baseline tier, so the ordinary NetworkPolicy patch is the fix. Blast radius is computed by the
caller from the matrix before/after, as for every fix.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, form, model, naming, peers

GROUP_VERSION = "policy.networking.k8s.io/v1alpha1"
KIND = "AdminNetworkPolicy"


def denied_by_admin(side: model.DirectionResult) -> bool:
    decision = side.decided_by
    return decision is not None and decision.layer == "admin" and decision.action == "Deny"


def rule(
    side: model.DirectionResult,
    other: peers.Peer,
    other_selector: Mapping[str, Any],
    port: int,
    port_name: str | None,
    protocol: str,
    name: str,
) -> dict[str, Any]:
    """The narrow Allow rule: exactly the other end, exactly the port."""
    if other.kind == "ip" or not other.selectable:
        address = str(other.network_ip)
        peer: dict[str, Any] = {"networks": [f"{address}/{128 if ':' in address else 32}"]}
        port_name = None  # the API forbids named ports with a networks peer
    else:
        peer = {"pods": _pods(other.namespace, other_selector)}
    field = "to" if side.direction is model.Direction.EGRESS else "from"
    ports = (
        [{"namedPort": port_name}]
        if port_name
        else [{"portNumber": {"protocol": protocol, "port": port}}]
    )
    return {"name": name, "action": "Allow", field: [peer], "ports": ports}


def allow_policy(
    evidence: evidence_model.Evidence,
    side: model.DirectionResult,
    subject: peers.Peer,
    subject_selector: Mapping[str, Any],
    allow_rule: dict[str, Any],
    name: str,
) -> tuple[dict[str, Any] | None, str]:
    """(the higher-precedence AdminNetworkPolicy, a note) - None when the Deny is at priority 0."""
    decision = side.decided_by
    assert decision is not None and decision.order is not None
    denying = int(decision.order)
    if denying == 0:
        return None, (
            f"{decision.kind} {decision.name} denies at priority 0: no policy can take "
            "precedence over it, so only the in-place edit opens the flow"
        )
    used = {(objects_spec(o).get("priority")) for o in evidence.kind(KIND) if o is not None}
    priority = next((p for p in range(denying - 1, -1, -1) if p not in used), denying - 1)
    note = (
        ""
        if priority not in used
        else (
            f"priority {priority} is already used by another AdminNetworkPolicy: equal priorities "
            "are applied in an unspecified order, renumber one of them"
        )
    )
    field = "egress" if side.direction is model.Direction.EGRESS else "ingress"
    obj = {
        "apiVersion": GROUP_VERSION,
        "kind": KIND,
        "metadata": {"name": naming.unused_name(evidence, KIND, "", name)},
        "spec": {
            "priority": priority,
            "subject": {"pods": _pods(subject.namespace, subject_selector)},
            field: [allow_rule],
        },
    }
    return obj, note


def insert_before_deny(
    evidence: evidence_model.Evidence, side: model.DirectionResult, allow_rule: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """(patched copy of the denying policy, JSON patch op, kubectl command), or None."""
    decision = side.decided_by
    if decision is None or decision.index is None:
        return None
    target = evidence.get(decision.kind, "", decision.name)
    if target is None:
        return None
    field = "egress" if side.direction is model.Direction.EGRESS else "ingress"
    edited = copy.deepcopy(dict(target))
    rules = edited.setdefault("spec", {}).setdefault(field, [])
    rules.insert(decision.index, allow_rule)
    op = {"op": "add", "path": f"/spec/{field}/{decision.index}", "value": allow_rule}
    resource = form.resource(decision.kind, "policy.networking.k8s.io")
    command = f"kubectl patch {resource} {decision.name} --type=json -p '{json.dumps([op])}'"
    return edited, op, command


def objects_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _pods(namespace: str, selector: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {cluster.NAME_LABEL: namespace}},
        "podSelector": copy.deepcopy(dict(selector)),
    }
