"""The minimal NetworkPolicy change that opens exactly one denied flow, and its blast radius.

Only the blocking side(s) get a policy: egress in the source's namespace selecting the source,
ingress in the destination's namespace selecting the destination. The peer is the narrowest one
that names the other end: its namespace by `kubernetes.io/metadata.name` AND its identifying
labels (the workload's selector; else its labels minus generated ones such as
pod-template-hash), or an ipBlock /32 (/128) for an address. The port is exact: protocol plus
the destination's port name when it defines one, else the number.

A new, clearly named policy is preferred (nothing the user owns is edited, rollback is one
delete); adding the same rule to the isolating policy is offered as the alternative. The blast
radius is computed, not guessed: the matrix before and after, on every port number the rule can
admit, diffed; flows to or from an address are checked one by one.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, selectors
from paramedic.netpol import admin_fix, blast, cluster, engine, explain, layers, model, peers
from paramedic.netpol.calico import fix as calico_fix
from paramedic.netpol.cilium import fix as cilium_fix
from paramedic.netpol.istio import fix as istio_fix

GENERATED_LABELS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "pod-template-generation",
        "controller-uid",
        "batch.kubernetes.io/controller-uid",
        "job-name",
        "batch.kubernetes.io/job-name",
    }
)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InPlace:
    """The alternative: add the same rule to a policy that already isolates the side."""

    target: str
    patch: tuple[Mapping[str, Any], ...]
    command: str
    opened: int
    """How many flows this alternative would open (often more: its podSelector is wider)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "op": "patch",
            "target": self.target,
            "patch": [dict(p) for p in self.patch],
            "command": self.command,
            "opens_flows": self.opened,
        }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Patch:
    objects: tuple[Mapping[str, Any], ...] = ()
    """Objects to create (plain dicts): NetworkPolicies, or an AdminNetworkPolicy of higher
    precedence for a side an admin Deny blocks (`admin_fix`)."""
    yaml: str = ""
    sides: tuple[str, ...] = ()
    in_place: tuple[InPlace, ...] = ()
    blast_radius: tuple[blast.Flow, ...] = ()
    """Every (source pod, destination pod, port) flow the patch newly allows."""
    closed: tuple[blast.Flow, ...] = ()
    """Flows the patch would close (only when it isolates a pod that was not isolated)."""
    opens_flow: bool = False
    """Whether the patched evidence allows the requested flow (checked, not assumed)."""
    notes: tuple[str, ...] = ()
    edits: tuple[cilium_fix.Edit, ...] = ()
    """Changes to objects the user owns that the fix needs (a Cilium deny rule narrowed so it
    no longer matches the flow: no allow can beat it), each with its undo."""

    def as_dict(self) -> dict[str, Any]:
        edits = {"edits": [e.as_dict() for e in self.edits]} if self.edits else {}
        return {
            "objects": [dict(o) for o in self.objects],
            **edits,
            "yaml": self.yaml,
            "sides": list(self.sides),
            "in_place": [p.as_dict() for p in self.in_place],
            "blast_radius": [f.as_dict() for f in self.blast_radius],
            "closes": [f.as_dict() for f in self.closed],
            "opens_flow": self.opens_flow,
            "notes": list(self.notes),
        }


def minimal_patch(
    evidence: evidence_model.Evidence,
    flow_result: model.FlowResult,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    semantics: model.Semantics = model.DEFAULT,
) -> Patch:
    """The smallest NetworkPolicy objects that allow `src` -> `dst` on port/protocol."""
    if flow_result.allowed:
        return Patch(opens_flow=True, notes=("the flow is already allowed: nothing to change",))
    protocol = engine.normalize_protocol(protocol)
    src_sel, src_name, src_note = identity(evidence, src)
    dst_sel, dst_name, dst_note = identity(evidence, dst)
    port_value: int | str = port_name(dst, port, protocol) or port
    port_entry = {"protocol": protocol, "port": port_value}
    sides = tuple(str(d.direction) for d in flow_result.blocking)
    base = dns_name(f"allow-{src_name}-to-{dst_name}-{port}")
    created: list[dict[str, Any]] = []
    alternatives: list[tuple[str, str, dict[str, Any]]] = []
    admin_edits: list[tuple[Any, dict[str, Any], str, str]] = []
    edits: list[cilium_fix.Edit] = []
    notes: list[str] = []
    for side in flow_result.blocking:
        egress = side.direction is model.Direction.EGRESS
        subject, subject_sel = (src, src_sel) if egress else (dst, dst_sel)
        other, other_sel = (dst, dst_sel) if egress else (src, src_sel)
        if cilium_fix.denied_by_cilium(side):
            view = cluster.of(evidence)
            if cilium_fix.by_deny_rule(side):
                seen = explain.as_seen(layers.program(view, semantics.cni), other).labels
                narrowed = cilium_fix.narrowed_deny(evidence, side, (other, other_sel), seen)
                edits.extend([narrowed] if isinstance(narrowed, cilium_fix.Edit) else [])
                notes.extend([narrowed] if isinstance(narrowed, str) else [])
            else:
                created.append(
                    cilium_fix.allow_policy(
                        evidence, side, (subject, subject_sel), (other, other_sel), port_value,
                        protocol, base, node=explain.is_node(view, other),
                    )
                )  # fmt: skip
                if explain.is_node(view, other):
                    notes.append(
                        f"{other.describe()} is a node: Cilium's CIDR rules never match nodes, "
                        "so the rule names the node entity, which admits every other node too"
                    )
            continue
        if calico_fix.denied_by_calico(side):
            rule = calico_fix.rule(
                side, (subject, subject_sel), (other, other_sel), port_value, protocol
            )
            created.append(
                calico_fix.allow_policy(evidence, side, (subject, subject_sel), rule, base)
            )
            edit = calico_fix.insert_before_deny(evidence, side, rule)
            if edit is not None and side.decided_by is not None:
                admin_edits.append((*edit, side.decided_by.ref))
            continue
        if istio_fix.denied_by_istio(side):
            made = istio_fix.plan(
                evidence, side, (src, src_sel), (dst, dst_sel), port, base, semantics
            )
            created.extend(made.objects)
            notes.extend(made.notes)
            admin_edits.extend(made.edits)
            continue
        if admin_fix.denied_by_admin(side):
            rule = admin_fix.rule(
                side, other, other_sel, port, port_name(dst, port, protocol), protocol, base
            )
            obj, note = admin_fix.allow_policy(evidence, side, subject, subject_sel, rule, base)
            created.extend([obj] if obj is not None else [])
            notes.extend([note] if note else [])
            edit = admin_fix.insert_before_deny(evidence, side, rule)
            if edit is not None and side.decided_by is not None:
                admin_edits.append((*edit, side.decided_by.ref))
            continue
        if egress:
            ns, selector = src.namespace, src_sel
            rule = {"to": [peer_entry(dst, dst_sel)], "ports": [port_entry]}
        else:
            ns, selector = dst.namespace, dst_sel
            rule = {"from": [peer_entry(src, src_sel)], "ports": [port_entry]}
        name = free_name(evidence, ns, base, str(side.direction), len(flow_result.blocking) > 1)
        created.append(policy_object(ns, name, selector, side.direction, rule))
        editable = [r for r in side.policies if r.startswith("NetworkPolicy ")]  # Kubernetes'
        if editable:
            alternatives.append((_narrowest(evidence, editable), str(side.direction), rule))
    replaced = {_key(e.obj): dict(e.obj) for e in edits}
    patched = evidence_model.Evidence.of(
        (*(replaced.get(_key(o), o) for o in evidence.objects), *created)
    )
    added = tuple(
        o for o in created if cluster.is_kubernetes_policy(o) and o["kind"] == "NetworkPolicy"
    )
    cluster.adopt(patched, evidence, added=added)
    after = explain.flow(cluster.of(patched), src, dst, port, protocol, semantics)
    mesh_next = not any(istio_fix.denied_by_istio(side) for side in flow_result.blocking)
    if not after.allowed and mesh_next and istio_fix.denied_by_istio(after.ingress):
        made = istio_fix.plan(
            patched, after.ingress, (src, src_sel), (dst, dst_sel), port, base, semantics
        )
        created.extend(made.objects)
        notes.extend(made.notes)
        admin_edits.extend(made.edits)
        patched = evidence_model.Evidence.of((*evidence.objects, *created))
        cluster.adopt(patched, evidence, added=added)
        after = explain.flow(cluster.of(patched), src, dst, port, protocol, semantics)
    opened, closed = blast.diff(evidence, patched, src, dst, port, protocol, port_value, semantics)
    in_place = _in_place(evidence, alternatives, src, dst, port, protocol, port_value, semantics)
    in_place += tuple(
        _admin_in_place(evidence, edit, src, dst, port, protocol, port_value, semantics)
        for edit in admin_edits
    )
    return Patch(
        objects=tuple(created),
        yaml=yaml.safe_dump_all(created, sort_keys=False),
        sides=sides,
        in_place=in_place,
        blast_radius=opened,
        closed=closed,
        opens_flow=after.allowed,
        notes=tuple(n for n in (src_note, dst_note, *notes) if n),
        edits=tuple(edits),
    )


def _key(o: Mapping[str, Any]) -> tuple[Any, ...]:
    return (o.get("apiVersion"), o.get("kind"), objects.namespace(o), objects.name(o))


def _admin_in_place(
    evidence: evidence_model.Evidence,
    edit: tuple[Any, dict[str, Any], str, str],
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    port_value: int | str,
    semantics: model.Semantics,
) -> InPlace:
    """The admin- or Calico-tier alternative: the Allow rule inserted before the Deny, with
    its radius."""
    edited, op, command, ref = edit
    changed = edited if isinstance(edited, tuple) else (edited,)  # several pods: an injection
    by_key = {_key(o): o for o in changed}
    patched = evidence_model.Evidence.of(tuple(by_key.get(_key(o), o) for o in evidence.objects))
    if not any(o.get("kind") == "Pod" for o in changed):
        cluster.adopt(patched, evidence)  # no NetworkPolicy changed: reuse the parsed view
    opened, _ = blast.diff(evidence, patched, src, dst, port, protocol, port_value, semantics)
    return InPlace(target=ref, patch=(op,), command=command, opened=len(opened))


def identity(
    evidence: evidence_model.Evidence, peer: peers.Peer
) -> tuple[dict[str, Any], str, str]:
    """(selector, short name, note) naming `peer`'s pods as narrowly as their labels allow."""
    if peer.kind != "pod":
        return {}, str(peer.address).replace(":", "-").replace(".", "-"), ""
    owner: Mapping[str, Any] | None = None
    if peer.obj is not None and peer.obj.get("kind") != "Pod":
        owner = peer.obj
    elif peer.obj is not None:
        ns = peer.namespace
        workloads = [w for kind in WORKLOAD_KINDS for w in evidence.kind(kind, ns)]
        owner = pods.owner_workload(peer.obj, workloads, evidence.kind("ReplicaSet", ns))
    if owner is not None:
        raw = objects.as_dict(objects.spec(owner).get("selector"))
        selector = _strip_generated(raw)
        if selector and selectors.matches(selector, peer.labels):
            return selector, objects.name(owner), ""
    labels = {k: v for k, v in sorted(peer.labels.items()) if k not in GENERATED_LABELS}
    name = _base_name(peer, owner)
    if not labels:
        return (
            {},
            name,
            f"{peer.describe()} has no identifying labels: "
            "the rule names every pod in its namespace",
        )
    return {"matchLabels": labels}, name, ""


# --- building blocks --------------------------------------------------------------------------


def policy_object(
    ns: str, name: str, selector: dict[str, Any], direction: model.Direction, rule: dict[str, Any]
) -> dict[str, Any]:
    field = "egress" if direction is model.Direction.EGRESS else "ingress"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "podSelector": copy.deepcopy(selector),
            "policyTypes": ["Egress" if field == "egress" else "Ingress"],
            field: [rule],
        },
    }


def peer_entry(peer: peers.Peer, selector: dict[str, Any]) -> dict[str, Any]:
    if peer.kind == "ip" or not peer.selectable:
        address = str(peer.network_ip)
        return {"ipBlock": {"cidr": f"{address}/{128 if ':' in address else 32}"}}
    return {
        "namespaceSelector": {"matchLabels": {cluster.NAME_LABEL: peer.namespace}},
        "podSelector": copy.deepcopy(selector),
    }


def port_name(dst: peers.Peer, port: int, protocol: str) -> str | None:
    """The destination's name for container port `port`/`protocol`, if it defines one."""
    if not dst.selectable or dst.obj is None:
        return None
    for container in pods.containers(dst.obj):
        for cp in objects.as_list(container.get("ports")):
            if (
                isinstance(cp, dict)
                and cp.get("containerPort") == port
                and cp.get("name")
                and (cp.get("protocol") or "TCP") == protocol
            ):
                name = str(cp["name"])
                return name if explain.named_port(dst, name, protocol) == port else None
    return None


def _in_place(
    evidence: evidence_model.Evidence,
    edits: list[tuple[str, str, dict[str, Any]]],
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    port_value: int | str,
    semantics: model.Semantics,
) -> tuple[InPlace, ...]:
    """One JSON patch per (policy ref, field, rule); `opened` counts all of them applied together
    (each blocking side needs its own edit for the flow to pass)."""
    edited: dict[str, dict[str, Any]] = {}
    found = []
    for ref, field, rule in edits:
        ns, _, name = ref.removeprefix("NetworkPolicy ").partition("/")
        target = evidence.get("NetworkPolicy", ns, name)
        assert target is not None
        obj = edited.setdefault(ref, copy.deepcopy(dict(target)))
        if not isinstance(obj.get("spec"), dict):
            obj["spec"] = {}  # a null spec in a hand-made bundle
        spec = obj["spec"]
        has_list = isinstance(spec.get(field), list)
        op = (
            {"op": "add", "path": f"/spec/{field}/-", "value": rule}
            if has_list
            else {"op": "add", "path": f"/spec/{field}", "value": [rule]}
        )
        if not isinstance(spec.get(field), list):
            spec[field] = []
        spec[field].append(rule)
        command = f"kubectl -n {ns} patch networkpolicy {name} --type=json -p '{json.dumps([op])}'"
        found.append((ref, op, command))
    originals = {
        id(evidence.get("NetworkPolicy", *ref.removeprefix("NetworkPolicy ").split("/", 1))): obj
        for ref, obj in edited.items()
    }
    patched = evidence_model.Evidence.of(tuple(originals.get(id(o), o) for o in evidence.objects))
    removed = tuple(tuple(ref.removeprefix("NetworkPolicy ").split("/", 1)) for ref in edited)
    cluster.adopt(patched, evidence, added=tuple(edited.values()), removed=removed)  # type: ignore[arg-type]
    opened, _ = blast.diff(evidence, patched, src, dst, port, protocol, port_value, semantics)
    return tuple(
        InPlace(target=ref, patch=(op,), command=command, opened=len(opened))
        for ref, op, command in found
    )


def _narrowest(evidence: evidence_model.Evidence, refs: Sequence[str]) -> str:
    """Of the isolating policies, the one selecting the fewest pods (its edit opens the least)."""

    def width(ref: str) -> tuple[int, bool, str]:
        ns, _, name = ref.removeprefix("NetworkPolicy ").partition("/")
        obj = evidence.get("NetworkPolicy", ns, name) or {}
        selector = objects.as_dict(objects.spec(obj).get("podSelector"))
        count = sum(
            1 for p in evidence.kind("Pod", ns) if selectors.matches(selector, objects.labels(p))
        )
        return count, not selector, ref

    return min(refs, key=width)


def _strip_generated(selector: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    labels = {
        k: v
        for k, v in objects.as_dict(selector.get("matchLabels")).items()
        if k not in GENERATED_LABELS
    }
    if labels:
        out["matchLabels"] = labels
    exprs = [
        e
        for e in objects.as_list(selector.get("matchExpressions"))
        if isinstance(e, dict) and e.get("key") not in GENERATED_LABELS
    ]
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _base_name(peer: peers.Peer, owner: Mapping[str, Any] | None) -> str:
    if owner is not None:
        return objects.name(owner)
    for key in ("app.kubernetes.io/name", "app", "k8s-app"):
        if peer.labels.get(key):
            return peer.labels[key]
    return peer.name


def free_name(evidence: evidence_model.Evidence, ns: str, base: str, side: str, both: bool) -> str:
    name = dns_name(f"{base}-{side}") if both else base
    if evidence.get("NetworkPolicy", ns, name) is None:
        return name
    name = dns_name(f"{base}-{side}")
    suffix = 2
    candidate = name
    while evidence.get("NetworkPolicy", ns, candidate) is not None:
        candidate = dns_name(f"{name}-{suffix}")
        suffix += 1
    return candidate


def dns_name(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    return cleaned[:63].rstrip("-") or "allow-flow"
