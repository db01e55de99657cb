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

from paramedic.evidence import model as evidence_model
from paramedic.evidence import yamltext
from paramedic.netpol import (
    admin_fix,
    amend,
    blast,
    cluster,
    engine,
    explain,
    layers,
    matching,
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


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Flow:
    """The denied flow to open, with the names every side's fix uses."""

    evidence: evidence_model.Evidence
    src: tuple[peers.Peer, dict[str, Any]]
    """The source and the selector naming its pods (naming.identity)."""
    dst: tuple[peers.Peer, dict[str, Any]]
    port: int
    protocol: str
    port_value: int | str
    """The destination's name for the port when it has one, else the number."""
    base: str
    """The name new policies start from."""
    semantics: model.Semantics
    sides: int
    """How many sides block (two new Kubernetes policies get a direction suffix)."""

    def ends(self, side: model.DirectionResult) -> tuple[Any, Any]:
        """(subject, other): the side's own end and the peer its rule names."""
        egress = side.direction is model.Direction.EGRESS
        return (self.src, self.dst) if egress else (self.dst, self.src)


@dataclasses.dataclass(slots=True)
class _Draft:
    """What the sides' fixes add up to, before it is checked."""

    created: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    alternatives: list[tuple[str, str, dict[str, Any]]] = dataclasses.field(default_factory=list)
    """(isolating Kubernetes policy, field, rule): the edit-in-place alternative (amend.rules)."""
    admin_edits: list[tuple[Any, dict[str, Any], str, str]] = dataclasses.field(
        default_factory=list
    )
    """Admin-, Calico- and Istio-tier alternatives (amend.admin)."""
    edits: list[cilium_fix.Edit] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


def minimal_patch(
    evidence: evidence_model.Evidence,
    flow_result: model.FlowResult,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    semantics: model.Semantics = model.DEFAULT,
) -> Patch:
    """The smallest policy objects that allow `src` -> `dst` on port/protocol: each blocking
    side fixed in its deciding layer's terms, then the patched evidence evaluated again (the
    flow must pass, and the blast radius is what else now passes)."""
    if flow_result.allowed:
        return Patch(opens_flow=True, notes=("the flow is already allowed: nothing to change",))
    protocol = engine.normalize_protocol(protocol)
    src_sel, src_name, src_note = naming.identity(evidence, src)
    dst_sel, dst_name, dst_note = naming.identity(evidence, dst)
    flow = _Flow(
        evidence=evidence,
        src=(src, src_sel),
        dst=(dst, dst_sel),
        port=port,
        protocol=protocol,
        port_value=naming.port_name(dst, port, protocol) or port,
        base=naming.dns_name(f"allow-{src_name}-to-{dst_name}-{port}"),
        semantics=semantics,
        sides=len(flow_result.blocking),
    )
    draft = _Draft()
    for side in flow_result.blocking:
        fix = next((f for denied, f in _BY_LAYER if denied(side)), _kubernetes)
        fix(flow, side, draft)
    after, patched = _check(flow, flow_result, draft)
    args = (src, dst, port, protocol, flow.port_value, semantics)
    opened, closed = blast.diff(evidence, patched, *args)
    in_place = amend.rules(evidence, draft.alternatives, *args)
    in_place += tuple(amend.admin(evidence, edit, *args) for edit in draft.admin_edits)
    return Patch(
        objects=tuple(draft.created),
        yaml=yamltext.manifests(*draft.created),
        sides=tuple(str(d.direction) for d in flow_result.blocking),
        in_place=in_place,
        blast_radius=opened,
        closed=closed,
        opens_flow=after.allowed,
        notes=tuple(n for n in (src_note, dst_note, *draft.notes) if n),
        edits=tuple(draft.edits),
    )


def _cilium(flow: _Flow, side: model.DirectionResult, draft: _Draft) -> None:
    """A CiliumNetworkPolicy admitting the flow, or for a deny rule the narrowed deny (no
    allow can beat a Cilium deny)."""
    subject, (other, other_sel) = flow.ends(side)
    view = cluster.of(flow.evidence)
    if cilium_fix.by_deny_rule(side):
        seen = explain.as_seen(layers.program(view, flow.semantics.cni), other).labels
        narrowed = cilium_fix.narrowed_deny(flow.evidence, side, (other, other_sel), seen)
        if isinstance(narrowed, cilium_fix.Edit):
            draft.edits.append(narrowed)
        else:
            draft.notes.append(narrowed)
        return
    node = matching.is_node(view, other)
    draft.created.append(
        cilium_fix.allow_policy(
            flow.evidence, side, subject, (other, other_sel), flow.port_value, flow.protocol,
            flow.base, node=node,
        )
    )  # fmt: skip
    if node:
        draft.notes.append(
            f"{other.describe()} is a node: Cilium's CIDR rules never match nodes, "
            "so the rule names the node entity, which admits every other node too"
        )


def _calico(flow: _Flow, side: model.DirectionResult, draft: _Draft) -> None:
    """A Calico policy in the deciding tier, ordered before the Deny; inserting the rule into
    the denying policy is the alternative."""
    subject, other = flow.ends(side)
    rule = calico_fix.rule(side, subject, other, flow.port_value, flow.protocol)
    draft.created.append(calico_fix.allow_policy(flow.evidence, side, subject, rule, flow.base))
    edit = calico_fix.insert_before_deny(flow.evidence, side, rule)
    if edit is not None and side.decided_by is not None:
        draft.admin_edits.append((*edit, side.decided_by.ref))


def _istio(flow: _Flow, side: model.DirectionResult, draft: _Draft) -> None:
    """An ALLOW AuthorizationPolicy naming the client, or the mTLS change (istio_fix)."""
    made = istio_fix.plan(
        flow.evidence, side, flow.src, flow.dst, flow.port, flow.base, flow.semantics
    )
    draft.created.extend(made.objects)
    draft.notes.extend(made.notes)
    draft.admin_edits.extend(made.edits)


def _admin(flow: _Flow, side: model.DirectionResult, draft: _Draft) -> None:
    """An AdminNetworkPolicy of higher precedence Allowing the flow; the rule inserted before
    the Deny is the alternative."""
    (subject, subject_sel), (other, other_sel) = flow.ends(side)
    name = naming.port_name(flow.dst[0], flow.port, flow.protocol)
    rule = admin_fix.rule(side, other, other_sel, flow.port, name, flow.protocol, flow.base)
    obj, note = admin_fix.allow_policy(flow.evidence, side, subject, subject_sel, rule, flow.base)
    draft.created.extend([obj] if obj is not None else [])
    draft.notes.extend([note] if note else [])
    edit = admin_fix.insert_before_deny(flow.evidence, side, rule)
    if edit is not None and side.decided_by is not None:
        draft.admin_edits.append((*edit, side.decided_by.ref))


def _kubernetes(flow: _Flow, side: model.DirectionResult, draft: _Draft) -> None:
    """A new NetworkPolicy for the side; the same rule added to the narrowest isolating policy
    is the alternative."""
    (subject, selector), (other, other_sel) = flow.ends(side)
    peer = "to" if side.direction is model.Direction.EGRESS else "from"
    rule = {
        peer: [naming.peer_entry(other, other_sel)],
        "ports": [{"protocol": flow.protocol, "port": flow.port_value}],
    }
    ns = subject.namespace
    name = naming.free_name(flow.evidence, ns, flow.base, str(side.direction), flow.sides > 1)
    draft.created.append(naming.policy_object(ns, name, selector, side.direction, rule))
    editable = [r for r in side.policies if r.startswith("NetworkPolicy ")]  # Kubernetes'
    if editable:
        narrowest = amend.narrowest(flow.evidence, editable)
        draft.alternatives.append((narrowest, str(side.direction), rule))


_BY_LAYER = (
    (cilium_fix.denied_by_cilium, _cilium),
    (calico_fix.denied_by_calico, _calico),
    (istio_fix.denied_by_istio, _istio),
    (admin_fix.denied_by_admin, _admin),
)
"""Which layer's terms fix a side: the first whose layer denied it; else a NetworkPolicy."""


def _check(
    flow: _Flow, flow_result: model.FlowResult, draft: _Draft
) -> tuple[model.FlowResult, evidence_model.Evidence]:
    """The flow evaluated on the patched evidence, and that evidence. When the fixes open the
    data path but Istio still denies at the sidecar (the mesh is the last point), its fix is
    added and the flow evaluated again."""
    evidence = flow.evidence
    replaced = {amend.key(e.obj): dict(e.obj) for e in draft.edits}
    patched = evidence_model.Evidence.of(
        (*(replaced.get(amend.key(o), o) for o in evidence.objects), *draft.created)
    )
    added = tuple(
        o for o in draft.created if cluster.is_kubernetes_policy(o) and o["kind"] == "NetworkPolicy"
    )
    cluster.adopt(patched, evidence, added=added)
    args = (flow.src[0], flow.dst[0], flow.port, flow.protocol, flow.semantics)
    after = explain.flow(cluster.of(patched), *args)
    mesh_next = not any(istio_fix.denied_by_istio(side) for side in flow_result.blocking)
    if not after.allowed and mesh_next and istio_fix.denied_by_istio(after.ingress):
        made = istio_fix.plan(
            patched, after.ingress, flow.src, flow.dst, flow.port, flow.base, flow.semantics
        )
        draft.created.extend(made.objects)
        draft.notes.extend(made.notes)
        draft.admin_edits.extend(made.edits)
        patched = evidence_model.Evidence.of((*evidence.objects, *draft.created))
        cluster.adopt(patched, evidence, added=added)
        after = explain.flow(cluster.of(patched), *args)
    return after, patched
