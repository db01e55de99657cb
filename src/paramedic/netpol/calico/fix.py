"""Fixes in Calico's own terms: what opens a flow that a Calico Deny (or a tier's end) closes.

No Kubernetes NetworkPolicy can open what an earlier Calico tier, or an earlier policy of the
default tier, denies: Calico evaluates tiers by order, policies by order, and a Deny is final.

- preferred: a new Calico NetworkPolicy in the blocked pod's namespace, in the *same tier*, with
  a *lower order* than the deciding policy (so it is evaluated first), selecting only the blocked
  pod's workload, with one Allow rule for exactly the other end on exactly the port;
- alternative: in the deciding policy itself, the same Allow rule inserted *before* the Deny rule
  (or at the end, when the tier's end decided), narrowed to the blocked pod (a JSON patch for
  `kubectl patch` through the Calico API server; `calicoctl patch` without).

Which tool writes it follows from the evidence: Calico's objects read as crd.projectcalico.org/v1
mean the cluster serves no projectcalico.org/v3 (no Calico API server, no native v3 CRDs), so
`kubectl apply` of a v3 object would fail there; `calicoctl` writes v3 objects into that CRD
datastore (`calicoctl apply -f -` reads the manifest from stdin), and the fix, its alternative
and its undo are all printed in calicoctl's terms (`crd_only`).

The end of the default tier is not handled here: an ordinary NetworkPolicy (default tier, order
1000) admits the flow there, so the NetworkPolicy patch is the fix. Blast radius is computed by
the caller from the matrix before/after, as for every fix.
"""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects
from paramedic.netpol import form, model, naming, peers
from paramedic.netpol.calico import compose, resources

API_VERSION = "projectcalico.org/v3"
GROUP = "projectcalico.org"
CRD_API_VERSION = "crd.projectcalico.org/v1"
CRD_ONLY_WHY = (
    "this cluster has no Calico API server: its Calico objects are crd.projectcalico.org/v1 "
    "CRDs, where kubectl apply of a projectcalico.org/v3 object fails; calicoctl writes it"
)


def crd_only(evidence: evidence_model.Evidence) -> bool:
    """Every Calico object in the evidence is crd.projectcalico.org/v1 (and there is one)."""
    found = [
        str(o.get("apiVersion", ""))
        for kind in resources.KINDS
        for o in evidence.kind(kind)
        if resources.is_calico(o)
    ]
    return bool(found) and all(v == CRD_API_VERSION for v in found)


def is_v3(obj: Mapping[str, Any]) -> bool:
    """A projectcalico.org/v3 object (what the fixes create)."""
    return str(obj.get("apiVersion", "")).startswith(f"{GROUP}/")


def tool(evidence: evidence_model.Evidence, obj: Mapping[str, Any]) -> str:
    """The command that can create `obj` on the evidence's cluster."""
    return "calicoctl" if is_v3(obj) and crd_only(evidence) else "kubectl"


def denied_by_calico(side: model.DirectionResult) -> bool:
    """A Calico Deny rule, or the end of a non-default Calico tier, decided this side."""
    d = side.decided_by
    if d is None or d.layer != "calico" or d.action != "Deny":
        return False
    return d.index is not None or d.tier != resources.DEFAULT_TIER


def selector_text(selector: Mapping[str, Any]) -> str:
    """A Kubernetes LabelSelector written as a Calico selector ('' selects everything)."""
    parts = [f'{k} == "{v}"' for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key"), expr.get("operator")
        values = ", ".join(f'"{v}"' for v in expr.get("values") or [])
        parts.append(
            {
                "In": f"{key} in {{{values}}}",
                "NotIn": f"{key} not in {{{values}}}",
                "Exists": f"has({key})",
                "DoesNotExist": f"!has({key})",
            }[op]
        )
    return " && ".join(parts) or "all()"


def _entity(peer: peers.Peer, selector: Mapping[str, Any]) -> dict[str, Any]:
    if peer.kind == "ip" or not peer.selectable:
        address = str(peer.network_ip)
        return {"nets": [f"{address}/{128 if ':' in address else 32}"]}
    return {
        "selector": selector_text(selector),
        "namespaceSelector": f'{compose.NAME} == "{peer.namespace}"',
    }


def rule(
    side: model.DirectionResult,
    subject: tuple[peers.Peer, Mapping[str, Any]],
    other: tuple[peers.Peer, Mapping[str, Any]],
    port: int | str,
    protocol: str,
) -> dict[str, Any]:
    """The narrow Allow rule: exactly the other end, exactly the port, only for the subject (so
    it may also go into a policy that selects more endpoints)."""
    here, there = _entity(*subject), _entity(*other)
    if side.direction is model.Direction.EGRESS:
        source, destination = here, there
    else:
        source, destination = there, here
    destination = {**destination, "ports": [port]}
    return {"action": "Allow", "protocol": protocol, "source": source, "destination": destination}


def allow_policy(
    evidence: evidence_model.Evidence,
    side: model.DirectionResult,
    subject: tuple[peers.Peer, Mapping[str, Any]],
    allow_rule: dict[str, Any],
    name: str,
) -> dict[str, Any]:
    """A Calico NetworkPolicy in the deciding tier, ordered just before the deciding policy."""
    decision = side.decided_by
    assert decision is not None
    peer, selector = subject
    order = decision.order - 1 if decision.order is not None else resources.DEFAULT_TIER_ORDER
    tier = decision.tier
    base = name if tier == resources.DEFAULT_TIER else f"{tier}.{name}"
    field = "egress" if side.direction is model.Direction.EGRESS else "ingress"
    own = copy.deepcopy(allow_rule)  # the policy's selector already names the subject
    if field == "egress":
        del own["source"]
    else:
        own["destination"] = {"ports": own["destination"]["ports"]}
    return {
        "apiVersion": API_VERSION,
        "kind": "NetworkPolicy",
        "metadata": {
            "name": naming.unused_name(evidence, "NetworkPolicy", peer.namespace, base),
            "namespace": peer.namespace,
        },
        "spec": {
            "tier": tier,
            "order": int(order) if float(order).is_integer() else order,
            "selector": selector_text(selector),
            "types": [field.capitalize()],
            field: [own],
        },
    }


def find(evidence: evidence_model.Evidence, decision: model.Decision) -> Mapping[str, Any] | None:
    """The Calico object that made `decision` (never a same-named Kubernetes NetworkPolicy)."""
    kind = decision.kind.removesuffix(f".{GROUP}")
    for obj in evidence.kind(kind, decision.namespace or None):
        if objects.name(obj) == decision.name and resources.is_calico(obj):
            return obj
    return None


def insert_before_deny(
    evidence: evidence_model.Evidence, side: model.DirectionResult, allow_rule: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """(edited copy of the deciding policy, JSON patch op, commands), or None."""
    decision = side.decided_by
    target = find(evidence, decision) if decision is not None else None
    if decision is None or target is None:
        return None
    field = "egress" if side.direction is model.Direction.EGRESS else "ingress"
    edited = copy.deepcopy(dict(target))
    rules = edited.setdefault("spec", {}).setdefault(field, [])
    index = decision.index if decision.index is not None else len(rules)
    rules.insert(index, allow_rule)
    op = {"op": "add", "path": f"/spec/{field}/{index}", "value": allow_rule}
    kind = str(target.get("kind"))
    where = f" -n {decision.namespace}" if decision.namespace else ""
    resource = form.resource(kind, GROUP)
    calicoctl = (
        f"calicoctl patch {kind.lower()} {decision.name}{where} "
        f"-p {shlex.quote(json.dumps({'spec': {field: rules}}))}"
    )
    if crd_only(evidence):
        return edited, op, f"{calicoctl}  # calicoctl: {CRD_ONLY_WHY.partition(', where')[0]}"
    commands = (
        f"kubectl{where} patch {resource} {decision.name} --type=json "
        f"-p {shlex.quote(json.dumps([op]))}  # without the Calico API server: {calicoctl}"
    )
    return edited, op, commands


def commands(obj: Mapping[str, Any], evidence: evidence_model.Evidence) -> tuple[str, str]:
    """(the other tool's way to create it, how to delete it) for a new policy, in the terms of
    the tool that creates it on this cluster (`tool`)."""
    namespace, name = objects.namespace(obj), objects.name(obj)
    calicoctl_delete = f"calicoctl delete networkpolicy {name} -n {namespace}"
    if crd_only(evidence):
        return (
            f"once Calico's API server is installed, `kubectl apply -f -` of the same YAML "
            f"creates {namespace}/{name} too",
            calicoctl_delete,
        )
    create = (
        f"without the Calico API server, create {namespace}/{name} with the same YAML through "
        "`calicoctl apply -f -` instead of `kubectl apply -f -`"
    )
    # `||`, not a comment: rollbacks are joined with "; ", and a comment would swallow the
    # undo commands after it
    delete = (
        f"kubectl -n {namespace} delete {form.resource('NetworkPolicy', GROUP)} {name}"
        f" || {calicoctl_delete}"
    )
    return create, delete
