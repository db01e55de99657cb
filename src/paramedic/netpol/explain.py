"""The straightforward per-pair evaluator, with an explanation per direction (the oracle).

It reads the policies exactly as the Kubernetes documentation states them, one flow at a time,
so it is the reference the fast engine (`fast`) is tested against. Order:

1. a pod may always reach itself (switch: self_always_allowed);
2. egress: only a pod on the pod network can be isolated for egress, by the policies in its
   namespace that select it with Egress in policyTypes; then any rule whose `to` peers select
   the destination AND whose ports admit (protocol, port) allows it;
3. ingress: the same for the destination; traffic from the destination's own node is always
   allowed (switch: node_to_pod_allowed).
"""

from __future__ import annotations

import ipaddress

from paramedic.kube import selectors, services
from paramedic.netpol import cluster, model, peers, policies

Direction = model.Direction


def flow(
    view: cluster.Cluster,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    semantics: model.Semantics = model.DEFAULT,
) -> model.FlowResult:
    egress = direction(view, Direction.EGRESS, src, dst, port, protocol, semantics)
    ingress = direction(view, Direction.INGRESS, src, dst, port, protocol, semantics)
    invalid = tuple(
        i.describe()
        for subject in (src, dst)
        if subject.kind == "pod"
        for i in view.invalid_in(subject.namespace)
        if i.pod_selector is None or selectors.matches(i.pod_selector, subject.labels)
    )
    return model.FlowResult(
        src=src.ref,
        dst=dst.ref,
        port=port,
        protocol=protocol,
        allowed=egress.allowed and ingress.allowed,
        egress=egress,
        ingress=ingress,
        invalid=tuple(dict.fromkeys(invalid)),
        semantics=semantics.describe(),
    )


def direction(
    view: cluster.Cluster,
    which: Direction,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    semantics: model.Semantics,
) -> model.DirectionResult:
    subject, other = (src, dst) if which is Direction.EGRESS else (dst, src)
    word = str(which)
    isolating = isolating_policies(view, subject, which)
    refs = tuple(p.ref for p in isolating)
    always = _always_allowed(which, src, dst, semantics)
    if always is not None:
        return model.DirectionResult(
            direction=which, allowed=True, isolated=bool(refs), policies=refs, reason=always
        )
    if not subject.selectable:
        why = (
            "is outside the pod network"
            if subject.kind == "ip"
            else "uses the host network (its traffic is node traffic)"
        )
        return model.DirectionResult(
            direction=which,
            allowed=True,
            isolated=False,
            reason=f"{subject.describe()} {why}: no NetworkPolicy applies to its {word}",
        )
    if not isolating:
        return model.DirectionResult(
            direction=which,
            allowed=True,
            isolated=False,
            reason=f"not isolated: no NetworkPolicy in namespace {subject.namespace} selects pod "
            f"{subject.ref} for {word}",
        )
    near: list[str] = []
    for policy in isolating:
        for index, rule in enumerate(policy.rules(which)):
            if not rule_peers_match(view, rule, policy.namespace, other, semantics):
                continue
            verdict = rule_ports_match(rule, dst, port, protocol)
            if verdict is True:
                return model.DirectionResult(
                    direction=which,
                    allowed=True,
                    isolated=True,
                    policies=refs,
                    allowed_by=(policy.ref, index),
                    reason=f"allowed by {policy.ref} {word}[{index}]",
                )
            near.append(f"{policy.ref} {word}[{index}] selects {other.describe()} but {verdict}")
    names = ", ".join(refs)
    if near:
        reason = f"{subject.describe()} is isolated for {word} by {names}; " + "; ".join(near)
    elif not any(p.rules(which) for p in isolating):
        reason = (
            f"{subject.describe()} is isolated for {word} by {names}, which allow no {word} at all"
        )
    else:
        peer_word = "destination" if which is Direction.EGRESS else "source"
        rules = "; ".join(describe_rules(p, which) for p in isolating)
        reason = (
            f"{subject.describe()} is isolated for {word} by {names}; no {word} rule selects the "
            f"{peer_word} {other.describe()} (rules: {rules})"
        )
    return model.DirectionResult(
        direction=which,
        allowed=False,
        isolated=True,
        policies=refs,
        reason=reason,
        near_misses=tuple(near),
    )


def _always_allowed(
    which: Direction, src: peers.Peer, dst: peers.Peer, semantics: model.Semantics
) -> str | None:
    """Why no policy can deny this side of the flow, if that is so."""
    if semantics.self_always_allowed and src.same_pod(dst):
        return "a pod may always reach itself"
    if which is Direction.INGRESS and semantics.node_to_pod_allowed and _from_own_node(src, dst):
        return f"traffic from the pod's own node ({dst.node_ip}) is always allowed"
    return None


def isolating_policies(
    view: cluster.Cluster, subject: peers.Peer, which: Direction
) -> list[policies.Policy]:
    if not subject.selectable:
        return []
    return [
        p
        for p in view.policies_in(subject.namespace)
        if p.isolates(which) and selectors.matches(p.pod_selector, subject.labels)
    ]


def rule_peers_match(
    view: cluster.Cluster,
    rule: policies.Rule,
    policy_namespace: str,
    other: peers.Peer,
    semantics: model.Semantics,
) -> bool:
    if rule.peers is None:
        return True
    return any(peer_matches(view, spec, policy_namespace, other, semantics) for spec in rule.peers)


def peer_matches(
    view: cluster.Cluster,
    spec: policies.PeerSpec,
    policy_namespace: str,
    other: peers.Peer,
    semantics: model.Semantics,
) -> bool:
    if spec.ip_block is not None:
        if other.selectable and not semantics.ipblock_matches_pods:
            return False
        if not semantics.ipblock_matches_nodes and is_node(view, other):
            return False
        try:
            address = ipaddress.ip_address(other.network_ip or "")
        except ValueError:  # no address, or a podIP/hostIP that is none ("x" in a bundle)
            return False
        return spec.ip_block.contains(address)
    if not other.selectable:
        return False  # selectors never match addresses outside the pod network
    if spec.namespace_selector is None:
        if other.namespace != policy_namespace:
            return False
    elif not selectors.matches(spec.namespace_selector, view.namespace_labels(other.namespace)):
        return False
    return spec.pod_selector is None or selectors.matches(spec.pod_selector, other.labels)


def rule_ports_match(rule: policies.Rule, dst: peers.Peer, port: int, protocol: str) -> bool | str:
    """True, or why not ('allows only TCP 80', 'allows port "db", which ... does not define')."""
    if rule.ports is None:
        return True
    unresolved = []
    for spec in rule.ports:
        if spec.matches_number(port, protocol):
            return True
        if isinstance(spec.port, str) and spec.protocol == protocol:
            number = named_port(dst, spec.port, protocol)
            if number == port:
                return True
            if number is None:
                unresolved.append(spec.port)
    allowed = ", ".join(s.describe() for s in rule.ports)
    if unresolved:
        return (
            f"allows port {', '.join(map(repr, unresolved))}, which {dst.describe()} "
            f"does not define for {protocol} (rule ports: {allowed}; wanted {protocol} {port})"
        )
    return f"allows only {allowed}, not {protocol} {port}"


def named_port(dst: peers.Peer, name: str, protocol: str) -> int | None:
    """The number a named port has on the destination pod; None off the pod network."""
    if not dst.selectable or dst.obj is None:
        return None
    return services.container_port(dst.obj, name, protocol)


def is_node(view: cluster.Cluster, peer: peers.Peer) -> bool:
    """A cluster node's address: a hostNetwork pod, or an IP that is a known node IP."""
    if peer.kind == "pod":
        return peer.host_network
    return peer.address in view.node_ips


def _from_own_node(src: peers.Peer, dst: peers.Peer) -> bool:
    return (
        dst.kind == "pod"
        and bool(dst.node_ip)
        and not src.selectable
        and src.network_ip == dst.node_ip
    )


def describe_rules(policy: policies.Policy, which: Direction, limit: int = 3) -> str:
    """'NetworkPolicy app/x egress[0] to pods app=a in namespaces ... on TCP 6379' (short)."""
    rules = policy.rules(which)
    if not rules:
        return f"{policy.ref} allows no {which}"
    word = "to" if which is Direction.EGRESS else "from"
    parts = []
    for i, rule in enumerate(rules[:limit]):
        whom = (
            "anywhere"
            if rule.peers is None
            else " or ".join(p.describe(policy.namespace) for p in rule.peers)
        )
        ports = "any port" if rule.ports is None else ", ".join(p.describe() for p in rule.ports)
        parts.append(f"{which}[{i}] {word} {whom} on {ports}")
    if len(rules) > limit:
        parts.append(f"and {len(rules) - limit} more")
    return f"{policy.ref}: " + ", ".join(parts)
