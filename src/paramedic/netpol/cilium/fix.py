"""Fixes in Cilium's terms: what opens a flow that a Cilium policy closes.

- The endpoint is in default deny and no allow rule admits the flow: a new CiliumNetworkPolicy
  in the blocked pod's namespace, selecting only its workload, with one rule admitting exactly
  the other end (its identifying labels and `k8s:io.kubernetes.pod.namespace`, a /32 for an
  address, `remote-node` / `host` for a node) on exactly the port. Allow rules of every policy
  are a union, so it opens this flow and nothing the blast radius does not list.
- A deny rule matched: no allow of any policy can beat it (deny before allow). The fix is the
  narrowed deny: the same rule with the other end carved out - a `NotIn` on the other end's
  identifying label in each endpoint selector that selects it, or an `except` /32 for an
  address in a CIDR rule - as a JSON patch of that one rule, with its undo.

The caller (`patch`) computes the blast radius of either from the matrix before and after.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, selectors
from paramedic.netpol import form, model, peers
from paramedic.netpol.cilium import labels, rules

LAYER, DENY_TIER = "cilium", "cilium-deny"
_LABEL = re.compile(r"^(?:specs\[(\d+)\]\.)?(ingressDeny|egressDeny)\[(\d+)\]$")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Edit:
    """A change to an object the user owns: one JSON patch op, with the op that undoes it."""

    target: str
    obj: Mapping[str, Any]
    """The object after the edit (for the blast radius)."""
    op: Mapping[str, Any]
    undo: Mapping[str, Any]
    command: str
    undo_command: str

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "patch": [dict(self.op)], "command": self.command,
                "undo": self.undo_command}  # fmt: skip


def denied_by_cilium(side: model.DirectionResult) -> bool:
    d = side.decided_by
    return d is not None and d.layer == LAYER and d.action == "Deny"


def by_deny_rule(side: model.DirectionResult) -> bool:
    d = side.decided_by
    return d is not None and d.tier == DENY_TIER and d.index is not None


def _endpoint(
    peer: peers.Peer, selector: Mapping[str, Any], side: str, node: bool
) -> dict[str, Any]:
    """The other end as a rule's L3 field: endpoints, a node entity, or a /32 CIDR."""
    if node:  # CIDR rules never match a node: its entity does
        return {f"{side}Entities": ["host", "remote-node"] if side == "to" else ["remote-node"]}
    if not peer.selectable:
        address = str(peer.network_ip)
        return {f"{side}CIDR": [f"{address}/{128 if ':' in address else 32}"]}
    chosen: dict[str, Any] = copy.deepcopy(dict(selector))
    chosen["matchLabels"] = {f"k8s:{labels.NAMESPACE}": peer.namespace,
                             **(chosen.get("matchLabels") or {})}  # fmt: skip
    return {f"{side}Endpoints": [chosen]}


def allow_policy(
    evidence: evidence_model.Evidence,
    side: model.DirectionResult,
    subject: tuple[peers.Peer, Mapping[str, Any]],
    other: tuple[peers.Peer, Mapping[str, Any]],
    port: int | str,
    protocol: str,
    name: str,
    *,
    node: bool,
) -> dict[str, Any]:
    """A CiliumNetworkPolicy admitting exactly the flow for the blocked side."""
    peer, selector = subject
    egress = side.direction is model.Direction.EGRESS
    rule = {
        **_endpoint(*other, "to" if egress else "from", node),
        "toPorts": [{"ports": [{"port": str(port), "protocol": protocol}]}],
    }
    taken = {objects.name(o) for o in evidence.kind(rules.CNP, peer.namespace)}
    candidate, suffix = name, 2
    while candidate in taken:
        candidate, suffix = f"{name}-{suffix}"[:63], suffix + 1
    return {
        "apiVersion": f"{rules.GROUP}/v2",
        "kind": rules.CNP,
        "metadata": {"name": candidate, "namespace": peer.namespace},
        "spec": {
            "endpointSelector": copy.deepcopy(dict(selector)),
            "egress" if egress else "ingress": [rule],
        },
    }


def find(evidence: evidence_model.Evidence, decision: model.Decision) -> Mapping[str, Any] | None:
    for obj in evidence.kind(decision.kind, decision.namespace or None):
        if objects.name(obj) == decision.name and rules.is_cilium(obj):
            return obj
    return None


def narrowed_deny(
    evidence: evidence_model.Evidence,
    side: model.DirectionResult,
    other: tuple[peers.Peer, Mapping[str, Any]],
    seen: Mapping[str, str],
) -> Edit | str:
    """The deny rule with the other end carved out, or why it cannot be done automatically.
    `seen`: the other end's labels as Cilium's selectors see them."""
    decision = side.decided_by
    assert decision is not None
    target = find(evidence, decision)
    where = _LABEL.match(decision.rule)
    if target is None or where is None:
        return f"{decision.ref} {decision.rule}: the rule is not in the evidence"
    spec_index, field, index = where.group(1), where.group(2), int(where.group(3))
    path = ["spec"] if spec_index is None else ["specs", spec_index]
    spec = objects.as_dict(target.get("spec")) if spec_index is None else (
        objects.as_list(target.get("specs"))[int(spec_index)])  # fmt: skip
    original = objects.as_list(objects.as_dict(spec).get(field))[index]
    narrowed = _carve(original, other, seen)
    if narrowed is None:
        return (
            f"{decision.ref} {decision.rule} cannot be narrowed automatically (its peers are "
            f"entities or every peer); edit it so it no longer matches {other[0].describe()}"
        )
    pointer = "/" + "/".join([*path, field, str(index)])
    op = {"op": "replace", "path": pointer, "value": narrowed}
    undo = {"op": "replace", "path": pointer, "value": original}
    edited = copy.deepcopy(dict(target))
    holder = edited["spec"] if spec_index is None else edited["specs"][int(spec_index)]
    holder[field][index] = narrowed
    return Edit(
        target=decision.ref,
        obj=edited,
        op=op,
        undo=undo,
        command=_patch_command(decision, op),
        undo_command=_patch_command(decision, undo),
    )


def _patch_command(decision: model.Decision, op: Mapping[str, Any]) -> str:
    where = f" -n {decision.namespace}" if decision.namespace else ""
    resource = form.resource(decision.kind, rules.GROUP)
    return (
        f"kubectl{where} patch {resource} {decision.name} --type=json "
        f"-p {shlex.quote(json.dumps([op]))}"
    )


def _carve(
    rule: Any, other: tuple[peers.Peer, Mapping[str, Any]], seen: Mapping[str, str]
) -> dict[str, Any] | None:
    if not isinstance(rule, dict):
        return None
    peer, identity = other
    out = copy.deepcopy(rule)
    for field in ("fromEndpoints", "toEndpoints"):
        if out.get(field) and peer.selectable:
            key, value = _identifying(identity, seen)
            if key is None:
                return None
            exclude = {"key": key, "operator": "NotIn", "values": [value]}
            out[field] = [_excluding(s, exclude, seen) for s in out[field]]
            return out
    address = form.address(str(peer.network_ip or ""))
    if peer.selectable or address is None:
        return None
    host = f"{address}/{address.max_prefixlen}"
    for plain, sets in (("fromCIDR", "fromCIDRSet"), ("toCIDR", "toCIDRSet")):
        if out.get(plain):
            out[sets] = [{"cidr": str(ipaddress.ip_network(str(c), strict=False))}
                         for c in out.pop(plain)]  # fmt: skip
        changed = False
        for entry in out.get(sets) or []:
            if isinstance(entry, dict) and _covers(entry, address):
                entry.setdefault("except", []).append(host)
                changed = True
        if changed:
            return out
    return None


def _covers(entry: Mapping[str, Any], address: form.IP) -> bool:
    """Whether a CIDRSet entry could match `address` (a group reference: assume it does)."""
    if entry.get("cidr") is None:
        return entry.get("cidrGroupRef") is not None
    try:
        return address in ipaddress.ip_network(str(entry["cidr"]), strict=False)
    except (ValueError, TypeError):
        return False


def _identifying(identity: Mapping[str, Any], seen: Mapping[str, str]) -> tuple[str | None, str]:
    chosen = objects.as_dict(identity.get("matchLabels"))
    for key in sorted(chosen):
        if seen.get(key) == str(chosen[key]):
            return key, str(chosen[key])
    return None, ""


def _excluding(selector: Any, exclude: dict[str, Any], seen: Mapping[str, str]) -> Any:
    """The selector, narrowed by `exclude` when it selects the other end (joined to a NotIn of
    the same key when it has one); selectors that do not select it stay as they are."""
    if not isinstance(selector, dict):
        return selector
    normal, _ = labels.normalize(selector)
    if not selectors.matches(normal, seen):
        return selector
    exprs = [
        dict(e) for e in objects.as_list(selector.get("matchExpressions")) if isinstance(e, dict)
    ]
    for expr in exprs:
        if (
            labels.strip(str(expr.get("key")))[0] == exclude["key"]
            and expr.get("operator") == "NotIn"
        ):
            expr["values"] = [*objects.as_list(expr.get("values")), *exclude["values"]]
            return {**selector, "matchExpressions": exprs}
    return {**selector, "matchExpressions": [*exprs, exclude]}
