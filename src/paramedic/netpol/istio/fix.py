"""Fixes in Istio's own terms, for a flow the destination's sidecar refuses.

- **STRICT mTLS, client without sidecar** (tier istio-mtls): the plaintext exception on the
  database's port, or the safer injection of the client, each with its blast radius
  (istio/mtls_fix.py says which and why).
- **No ALLOW rule matched** (tier istio-allow): an ALLOW AuthorizationPolicy in the database's
  namespace selecting only its workload, with one rule: the client's principal (`<trust
  domain>/ns/<ns>/sa/<sa>`; a client without sidecar has none, so its address) and the port.
- **A DENY rule matched** (tier istio-deny): no ALLOW can beat it, so the deny is narrowed in
  place: the client's principal (or address) added to the rule's sources as `notPrincipals`
  (`notIpBlocks`), a JSON patch for `kubectl patch`.

A first fix may reveal the next refusal (mTLS passes, then no ALLOW rule matches): `plan`
re-evaluates with its objects and adds the next layer's fix, up to one per tier.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects
from paramedic.netpol import cluster, explain, model, naming, peers
from paramedic.netpol.istio import mesh, mtls_fix, resources

API_VERSION = mtls_fix.API_VERSION
LAYER = "istio"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    objects: tuple[dict[str, Any], ...] = ()
    edits: tuple[mtls_fix.Edit, ...] = ()
    notes: tuple[str, ...] = ()


def denied_by_istio(side: model.DirectionResult) -> bool:
    d = side.decided_by
    return d is not None and d.layer == LAYER and d.action == "Deny"


def plan(
    evidence: evidence_model.Evidence,
    side: model.DirectionResult,
    src: tuple[peers.Peer, Mapping[str, Any]],
    dst: tuple[peers.Peer, Mapping[str, Any]],
    port: int,
    name: str,
    semantics: model.Semantics,
) -> Plan:
    made: list[dict[str, Any]] = []
    edits: list[mtls_fix.Edit] = []
    notes: list[str] = []
    current, tiers = evidence, set()
    while denied_by_istio(side) and side.decided_by is not None:
        tier = side.decided_by.tier
        if tier in tiers:
            break
        tiers.add(tier)
        config = mesh.config(tuple(current.kind("ConfigMap")))
        if tier == "istio-mtls":
            obj, edit = mtls_fix.plaintext_exception(current, dst, port, name)
            made += [obj] if obj is not None else []
            edits += [edit] if edit is not None else []
            edits += mtls_fix.injection(current, src)
            notes.append(mtls_fix.MTLS_NOTE)
        elif tier == "istio-allow":
            obj, note = _allow_policy(current, config, src, dst, port, name)
            made += [obj] if obj is not None else []
            notes += [note] if note else []
            if note and tier == "istio-allow":  # no principal: injecting gives it one
                edits += mtls_fix.injection(current, src)
        else:
            edit, note = _narrowed_deny(current, config, side, src[0])
            edits += [edit] if edit is not None else []
            notes.append(note)
            break  # an in-place edit: the caller weighs it; nothing new to re-evaluate
        if not made:
            break
        current = evidence_model.Evidence.of((*evidence.objects, *made))
        after = explain.flow(cluster.of(current), src[0], dst[0], port, "TCP", semantics)
        side = after.ingress
    return Plan(objects=tuple(made), edits=tuple(edits), notes=tuple(notes))


def _source(
    evidence: evidence_model.Evidence, config: mesh.Mesh, src: peers.Peer, negated: bool
) -> tuple[dict[str, Any], str]:
    """The source entry naming the client: its principal, else its address."""
    if src.kind == "pod" and src.selectable:
        ns_labels = cluster.of(evidence).namespace_labels(src.namespace)
        if mesh.has_sidecar(src.obj, ns_labels):
            key = "notPrincipals" if negated else "principals"
            return {key: [mesh.principal(config, src.namespace, src.obj)]}, ""
    address = src.network_ip
    if not address:
        return {}, f"{src.describe()} has neither a sidecar (no principal) nor an address"
    key = "notIpBlocks" if negated else "ipBlocks"
    note = (
        f"{src.describe()} has no sidecar, so no principal: it is named by its address "
        "(a pod's address changes when it restarts; injecting the client is the durable fix)"
        if src.kind == "pod"
        else ""
    )
    return {key: [address]}, note


def _allow_policy(
    evidence: evidence_model.Evidence,
    config: mesh.Mesh,
    src: tuple[peers.Peer, Mapping[str, Any]],
    dst: tuple[peers.Peer, Mapping[str, Any]],
    port: int,
    name: str,
) -> tuple[dict[str, Any] | None, str]:
    source, note = _source(evidence, config, src[0], negated=False)
    if not source:
        return None, note
    obj = {
        "apiVersion": API_VERSION,
        "kind": "AuthorizationPolicy",
        "metadata": {
            "namespace": dst[0].namespace,
            "name": naming.unused_name(evidence, "AuthorizationPolicy", dst[0].namespace, name),
        },
        "spec": {
            "selector": {"matchLabels": mtls_fix.selector_labels(dst[1])},
            "action": "ALLOW",
            "rules": [
                {"from": [{"source": source}], "to": [{"operation": {"ports": [str(port)]}}]}
            ],
        },
    }
    return obj, note


def _narrowed_deny(
    evidence: evidence_model.Evidence,
    config: mesh.Mesh,
    side: model.DirectionResult,
    src: peers.Peer,
) -> tuple[mtls_fix.Edit | None, str]:
    d = side.decided_by
    assert d is not None
    ns, _, name = d.name.rpartition("/") if not d.namespace else (d.namespace, "", d.name)
    target = next(
        (
            o
            for o in evidence.kind("AuthorizationPolicy", ns)
            if objects.name(o) == name and resources.is_istio(o, "AuthorizationPolicy")
        ),
        None,
    )
    why = (
        f"{d.ref} {d.rule} denies and an Istio DENY beats every ALLOW: the fix narrows that "
        "rule in place so it no longer matches this client"
    )
    if target is None or d.index is None:
        return None, why
    source, note = _source(evidence, config, src, negated=True)
    if not source:
        return None, note
    edited = copy.deepcopy(dict(target))
    rule = edited["spec"]["rules"][d.index]
    if rule.get("from"):
        for entry in rule["from"]:
            body = entry.setdefault("source", {})
            for key, values in source.items():
                body[key] = [*body.get(key, []), *values]
    else:
        rule["from"] = [{"source": source}]
    op = {"op": "replace", "path": f"/spec/rules/{d.index}", "value": rule}
    command = (
        f"kubectl -n {ns} patch authorizationpolicies.security.istio.io {name} "
        f"--type=json -p '{json.dumps([op])}'"
    )
    return (edited, op, command, f"AuthorizationPolicy {ns}/{name}"), "; ".join(
        n for n in (why, note) if n
    )
