"""A Cilium rule's peers as terms of the compiled form (`form.Term`).

endpoints     pods whose Cilium labels (`labels.endpoint_labels`) the selector matches; a
              CiliumNetworkPolicy's selector only in its own namespace unless it names
              io.kubernetes.pod.namespace
world         addresses outside the cluster: every CIDR, which under Cilium's semantics
              (`model.CILIUM`) never matches a pod or a node
cluster       every pod and every node address;  all: everyone
host          the subject's own node. Ingress from it is always allowed before any policy,
              so an ingress `host` adds nothing; on egress it is taken as every node address
              and listed as approximate unless the rule also names remote-node
remote-node   every other node (every node address: the own node is always allowed in)
kube-apiserver  the addresses of Service default/kubernetes when the evidence has them and
              none is a node address; else listed as unmodelled
init, health, ingress, unmanaged, none: identities that are never a pod, node or client here
CIDR / CIDRSet  the address on the wire (cidr minus except); a CiliumCIDRGroup reference or
              selector stands for the groups' externalCIDRs
nodes         node addresses of Nodes whose labels match (fromNodes / toNodes)
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping

from paramedic.kube import services
from paramedic.netpol import cluster, form, labelmatch, model, policies
from paramedic.netpol.cilium import fields, labels, rules

Direction = model.Direction
EVERYTHING = labelmatch.KubeSelector.of({}, "{}")
_WORLD = {
    "world": ("0.0.0.0/0", "::/0"),
    "world-ipv4": ("0.0.0.0/0",),
    "world-ipv6": ("::/0",),
}
NOWHERE = frozenset({"init", "health", "ingress", "unmanaged", "none"})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    view: cluster.Cluster
    groups: Mapping[str, tuple[Mapping[str, str], tuple[policies.Network, ...]]]
    apiserver: tuple[policies.Network, ...] | None
    """Addresses of default/kubernetes when known and off the nodes (None: unknown)."""

    @classmethod
    def of(cls, view: cluster.Cluster) -> Context:
        return cls(
            view=view,
            groups=rules.cidr_groups(view.objects(rules.CIDR_GROUP)),
            apiserver=_apiserver(view),
        )


def _apiserver(view: cluster.Cluster) -> tuple[policies.Network, ...] | None:
    service = view.evidence.get("Service", "default", "kubernetes") if view.evidence else None
    if service is None:
        return None
    ready, _ = services.endpoint_addresses(
        service, view.objects("Endpoints"), view.objects("EndpointSlice")
    )
    if not ready or any(ip in view.node_ips for ip in ready):
        return None
    nets = []
    for ip in ready:
        address = form.address(ip)
        if address is None:
            return None
        nets.append(ipaddress.ip_network(address))
    return tuple(nets)


def subject(spec: rules.Spec) -> form.Term:
    selector = labelmatch.KubeSelector.of(spec.selector, labels.key(spec.selector))
    where = f" in namespace {spec.namespace}" if spec.namespace else ""
    return form.Term(
        key=f"cilium|{spec.namespace}|{selector.key}",
        text=f"endpoints {selector.describe()}{where}",
        namespace=spec.namespace or None,
        pods=selector,
    )


def peers(
    ctx: Context, spec: rules.Spec, rule: rules.Rule
) -> tuple[tuple[form.Term, ...] | None, list[str]]:
    """(the rule's peer terms, None = everyone; notes on what is approximate or unknown)."""
    if rule.peers is None:
        return None, []
    found: list[form.Term] = []
    notes: list[str] = []
    entities = {p.entity for p in rule.peers if p.kind == "entity"}
    for peer in rule.peers:
        if peer.kind == "entity" and peer.entity == "all":
            return None, []
        if peer.kind == "endpoints":
            found.append(_endpoints(spec, peer))
        elif peer.kind == "entity":
            found += _entity(ctx, peer.entity, rule.direction, entities, notes)
        elif peer.kind == "cidr" and peer.block is not None:
            found.append(_cidr((peer.block,), f"CIDR {peer.block.describe()}"))
        elif peer.kind == "group":
            blocks = _group_blocks(ctx, peer)
            if blocks:
                found.append(_cidr(blocks, "CiliumCIDRGroup " + (peer.group or "selected")))
        elif peer.kind == "nodes" and peer.selector is not None:
            match = labelmatch.KubeSelector.of(peer.selector, labels.key(peer.selector))
            found.append(
                form.Term(
                    key=f"cilium|nodes|{match.key}", text=f"nodes {match.describe()}", nodes=match
                )
            )
    where = f"{spec.path}.{rule.label}"
    return tuple(dict((t.key, t) for t in found).values()), [f"{where}: {n}" for n in notes]


def _endpoints(spec: rules.Spec, peer: fields.Peer) -> form.Term:
    assert peer.selector is not None
    selector = labelmatch.KubeSelector.of(peer.selector, labels.key(peer.selector))
    scoped = spec.namespace if spec.namespace and not peer.names_namespace else None
    where = f" in namespace {scoped}" if scoped else ""
    return form.Term(
        key=f"cilium|{scoped or ''}|{selector.key}",
        text=f"endpoints {selector.describe()}{where}",
        namespace=scoped,
        pods=selector,
    )


def _nets(texts: tuple[str, ...]) -> tuple[policies.IPBlock, ...]:
    return tuple(policies.IPBlock(cidr=ipaddress.ip_network(t)) for t in texts)


def _cidr(blocks: tuple[policies.IPBlock, ...], text: str) -> form.Term:
    key = ",".join(b.describe() for b in blocks)
    return form.Term(key=f"cilium|cidr|{key}", text=text, nets=blocks)


def _all_nodes() -> form.Term:
    return form.Term(key="cilium|entity|nodes", text="entity host/remote-node", nodes=EVERYTHING)


def _entity(
    ctx: Context, entity: str, direction: Direction, named: set[str], notes: list[str]
) -> list[form.Term]:
    if entity in _WORLD:
        return [form.Term(key=f"cilium|entity|{entity}", text=f"entity {entity}",
                          nets=_nets(_WORLD[entity]))]  # fmt: skip
    if entity == "cluster":
        pods = form.Term(key="cilium|entity|pods", text="entity cluster", namespaces=EVERYTHING)
        return [pods, _all_nodes()]
    if entity in ("host", "remote-node"):
        if direction is Direction.INGRESS and entity == "host":
            return []  # the own node is always allowed in; other nodes are remote-node
        other = "remote-node" if entity == "host" else "host"
        if direction is Direction.EGRESS and not named & {other, "cluster"}:
            notes.append(
                f"toEntities {entity} is relative to the source's node; it is evaluated as "
                "every node address"
            )
        return [_all_nodes()]
    if entity == "kube-apiserver":
        if ctx.apiserver is None:
            notes.append(
                "entity kube-apiserver: the API server's addresses are not in the evidence "
                "(or are node addresses)"
            )
            return []
        blocks = tuple(policies.IPBlock(cidr=n) for n in ctx.apiserver)
        return [_cidr(blocks, "entity kube-apiserver")]
    return []  # NOWHERE: identities that never stand for a pod, node or client here


def _group_blocks(ctx: Context, peer: fields.Peer) -> tuple[policies.IPBlock, ...]:
    chosen: list[policies.Network] = []
    for name, (group_labels, nets) in sorted(ctx.groups.items()):
        if peer.group == name or (
            peer.selector is not None
            and labelmatch.KubeSelector.of(peer.selector).matches(group_labels)
        ):
            chosen += nets
    return tuple(
        policies.IPBlock(
            cidr=net,
            excepts=tuple(e for e in peer.excepts if e.version == net.version and e.subnet_of(net)),  # type: ignore[arg-type]
        )
        for net in chosen
    )
