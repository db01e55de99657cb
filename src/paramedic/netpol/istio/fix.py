"""Fixes in Istio's own terms, for a flow the destination's sidecar refuses.

- **STRICT mTLS, client without sidecar** (tier istio-mtls). Two fixes, each with its blast
  radius. Preferred as an object: a PeerAuthentication selecting only the database workload
  with `portLevelMtls: {PORT: PERMISSIVE}`, so that port also accepts plaintext (or that entry
  added to the workload's existing PeerAuthentication: Istio applies only the oldest one that
  selects a pod). Safer: inject the client (the template label `sidecar.istio.io/inject:
  "true"`, which restarts its pods): every connection stays mutually authenticated and
  encrypted, and the client gets a principal that AuthorizationPolicies can name, whereas the
  exception accepts plaintext on that port from every client without sidecar the network lets
  through. The injection is offered as the alternative, its radius computed on pods with a
  sidecar.
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
from paramedic.kube import objects, pods, selectors
from paramedic.netpol import cluster, explain, model, peers
from paramedic.netpol.istio import mesh, resources

API_VERSION = "security.istio.io/v1"
LAYER = "istio"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    objects: tuple[dict[str, Any], ...] = ()
    edits: tuple[tuple[Any, dict[str, Any], str, str], ...] = ()
    """(edited object or objects, JSON patch op, command, target) for the in-place alternatives."""
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
    edits: list[tuple[Any, dict[str, Any], str, str]] = []
    notes: list[str] = []
    current, tiers = evidence, set()
    while denied_by_istio(side) and side.decided_by is not None:
        tier = side.decided_by.tier
        if tier in tiers:
            break
        tiers.add(tier)
        config = mesh.config(tuple(current.kind("ConfigMap")))
        if tier == "istio-mtls":
            obj, edit = _plaintext_exception(current, dst, port, name)
            made += [obj] if obj is not None else []
            edits += [edit] if edit is not None else []
            edits += _injection(current, src)
            notes.append(MTLS_NOTE)
        elif tier == "istio-allow":
            obj, note = _allow_policy(current, config, src, dst, port, name)
            made += [obj] if obj is not None else []
            notes += [note] if note else []
            if note and tier == "istio-allow":  # no principal: injecting gives it one
                edits += _injection(current, src)
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


MTLS_NOTE = (
    "STRICT mTLS refuses the client because it has no sidecar. Safer: inject the client (the "
    "alternative): connections stay mutually authenticated and encrypted and the client gets a "
    "principal AuthorizationPolicies can name. The PeerAuthentication exception is the smaller "
    "change but accepts plaintext on that port from every client without sidecar that the "
    "network lets through (its blast radius lists them)"
)


def _selector(selector: Mapping[str, Any]) -> dict[str, str]:
    """Istio selects by matchLabels only."""
    return {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()}


def _plaintext_exception(
    evidence: evidence_model.Evidence,
    dst: tuple[peers.Peer, Mapping[str, Any]],
    port: int,
    name: str,
) -> tuple[dict[str, Any] | None, tuple[Any, dict[str, Any], str, str] | None]:
    peer, selector = dst
    labels = _selector(selector)
    entry = {str(port): {"mode": "PERMISSIVE"}}
    owning = [
        o
        for o in evidence.kind("PeerAuthentication", peer.namespace)
        if resources.is_istio(o, "PeerAuthentication")
        and isinstance(objects.spec(o).get("selector"), dict)
        and selectors.matches(objects.as_dict(objects.spec(o)["selector"]), peer.labels)
    ]
    if owning:  # only the oldest workload policy applies: edit it instead of adding one
        owning.sort(
            key=lambda o: (objects.text(objects.meta(o).get("creationTimestamp")), objects.name(o))
        )
        target = owning[0]
        edited = copy.deepcopy(dict(target))
        edited["spec"].setdefault("portLevelMtls", {}).update(entry)
        op = {"op": "add", "path": f"/spec/portLevelMtls/{port}", "value": entry[str(port)]}
        ref = objects.name(target)
        command = (
            f"kubectl -n {peer.namespace} patch peerauthentications.security.istio.io {ref} "
            f"--type=json -p '{json.dumps([op])}'"
        )
        return None, (edited, op, command, f"PeerAuthentication {peer.namespace}/{ref}")
    if not labels:  # an empty selector is namespace-wide to Istio: it cannot single this out
        return None, _namespace_permissive(evidence, peer.namespace)
    obj = {
        "apiVersion": API_VERSION,
        "kind": "PeerAuthentication",
        "metadata": {
            "namespace": peer.namespace,
            "name": _free(evidence, "PeerAuthentication", peer.namespace, f"{name}-plaintext"),
        },
        "spec": {"selector": {"matchLabels": labels}, "portLevelMtls": entry},
    }
    return obj, None


def _namespace_permissive(
    evidence: evidence_model.Evidence, namespace: str
) -> tuple[Any, dict[str, Any], str, str] | None:
    """For a workload without labels: the namespace's own policy (the oldest without a
    selector) set to PERMISSIVE, in place; its blast radius is every pod of the namespace."""
    wide = sorted(
        (
            o
            for o in evidence.kind("PeerAuthentication", namespace)
            if resources.is_istio(o, "PeerAuthentication")
            and not _selector(objects.as_dict(objects.spec(o).get("selector")))
        ),
        key=lambda o: (objects.text(objects.meta(o).get("creationTimestamp")), objects.name(o)),
    )
    if not wide:
        return None
    target = wide[0]
    edited = copy.deepcopy(dict(target))
    edited["spec"]["mtls"] = {"mode": "PERMISSIVE"}
    op = {"op": "add", "path": "/spec/mtls", "value": {"mode": "PERMISSIVE"}}
    ref = objects.name(target)
    command = (
        f"kubectl -n {namespace} patch peerauthentications.security.istio.io {ref} "
        f"--type=json -p '{json.dumps([op])}'"
    )
    return edited, op, command, f"PeerAuthentication {namespace}/{ref}"


def _injection(
    evidence: evidence_model.Evidence, src: tuple[peers.Peer, Mapping[str, Any]]
) -> list[tuple[Any, dict[str, Any], str, str]]:
    """The client's pods with a sidecar, and the command that gets them one."""
    peer, selector = src
    if peer.kind != "pod" or not peer.selectable:
        return []
    chosen: list[Mapping[str, Any]] = [
        p
        for p in evidence.kind("Pod", peer.namespace)
        if selector and selectors.matches(selector, objects.labels(p))
    ] or ([peer.obj] if peer.obj is not None and peer.obj.get("kind") == "Pod" else [])
    injected = tuple(_with_sidecar(p) for p in chosen)
    if not injected:
        return []
    owner = peer.obj if peer.obj is not None and peer.obj.get("kind") != "Pod" else None
    if owner is None and chosen:
        workloads = [
            w
            for k in ("Deployment", "StatefulSet", "DaemonSet")
            for w in evidence.kind(k, peer.namespace)
        ]
        owner = pods.owner_workload(
            chosen[0], workloads, evidence.kind("ReplicaSet", peer.namespace)
        )
    label = {"spec": {"template": {"metadata": {"labels": {mesh.INJECT: "true"}}}}}
    op = {"op": "merge", "value": label}
    if owner is not None and owner.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        kind = str(owner["kind"]).lower()
        target = f"{owner['kind']} {peer.namespace}/{objects.name(owner)}"
        command = (
            f"kubectl -n {peer.namespace} patch {kind} {objects.name(owner)} --type=merge "
            f"-p '{json.dumps(label)}'  # injects the sidecar: its pods restart"
        )
    else:
        target = f"namespace {peer.namespace}"
        command = (
            f"kubectl label namespace {peer.namespace} istio-injection=enabled --overwrite "
            f"&& kubectl -n {peer.namespace} delete pod {objects.name(chosen[0])}"
        )
    return [(injected, op, command, f"{target} (inject its sidecar)")]


def _with_sidecar(pod: Mapping[str, Any]) -> dict[str, Any]:
    edited = copy.deepcopy(dict(pod))
    spec = edited.setdefault("spec", {})
    spec["containers"] = [*objects.as_list(spec.get("containers")), {"name": mesh.PROXY}]
    return edited


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
            "name": _free(evidence, "AuthorizationPolicy", dst[0].namespace, name),
        },
        "spec": {
            "selector": {"matchLabels": _selector(dst[1])},
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
) -> tuple[tuple[Any, dict[str, Any], str, str] | None, str]:
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


def _free(evidence: evidence_model.Evidence, kind: str, ns: str, name: str) -> str:
    taken = {objects.name(o) for o in evidence.kind(kind, ns)}
    candidate, suffix = name[:63], 2
    while candidate in taken:
        candidate = f"{name}-{suffix}"[:63]
        suffix += 1
    return candidate
