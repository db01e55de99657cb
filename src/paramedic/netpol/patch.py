"""The minimal NetworkPolicy change that opens exactly one denied flow, and its blast radius.

Only the blocking side(s) get a policy: egress in the source's namespace selecting the source,
ingress in the destination's namespace selecting the destination, each side in its layer's own
terms (admin, Calico, Cilium, Istio: their `*_fix` modules). The peer is the narrowest one that
names the other end and the port is exact (netpol.naming).

A new, clearly named policy is preferred (nothing the user owns is edited, rollback is one
delete); adding the same rule to the isolating policy is offered as the alternative
(netpol.amend). The blast
radius is computed, not guessed: the matrix before and after, on every port number the rule can
admit, diffed; flows to or from an address are checked one by one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import yaml

from paramedic.evidence import model as evidence_model
from paramedic.netpol import (
    admin_fix,
    amend,
    blast,
    cluster,
    engine,
    explain,
    layers,
    model,
    naming,
    peers,
)
from paramedic.netpol.calico import fix as calico_fix
from paramedic.netpol.cilium import fix as cilium_fix
from paramedic.netpol.istio import fix as istio_fix


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Patch:
    objects: tuple[Mapping[str, Any], ...] = ()
    """Objects to create (plain dicts): NetworkPolicies, or an AdminNetworkPolicy of higher
    precedence for a side an admin Deny blocks (`admin_fix`)."""
    yaml: str = ""
    sides: tuple[str, ...] = ()
    in_place: tuple[amend.InPlace, ...] = ()
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
    src_sel, src_name, src_note = naming.identity(evidence, src)
    dst_sel, dst_name, dst_note = naming.identity(evidence, dst)
    port_value: int | str = naming.port_name(dst, port, protocol) or port
    port_entry = {"protocol": protocol, "port": port_value}
    sides = tuple(str(d.direction) for d in flow_result.blocking)
    base = naming.dns_name(f"allow-{src_name}-to-{dst_name}-{port}")
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
                side, other, other_sel, port, naming.port_name(dst, port, protocol), protocol, base
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
            rule = {"to": [naming.peer_entry(dst, dst_sel)], "ports": [port_entry]}
        else:
            ns, selector = dst.namespace, dst_sel
            rule = {"from": [naming.peer_entry(src, src_sel)], "ports": [port_entry]}
        name = naming.free_name(
            evidence, ns, base, str(side.direction), len(flow_result.blocking) > 1
        )
        created.append(naming.policy_object(ns, name, selector, side.direction, rule))
        editable = [r for r in side.policies if r.startswith("NetworkPolicy ")]  # Kubernetes'
        if editable:
            alternatives.append((amend.narrowest(evidence, editable), str(side.direction), rule))
    replaced = {amend.key(e.obj): dict(e.obj) for e in edits}
    patched = evidence_model.Evidence.of(
        (*(replaced.get(amend.key(o), o) for o in evidence.objects), *created)
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
    in_place = amend.rules(evidence, alternatives, src, dst, port, protocol, port_value, semantics)
    in_place += tuple(
        amend.admin(evidence, edit, src, dst, port, protocol, port_value, semantics)
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
