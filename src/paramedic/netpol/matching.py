"""Whether one flow meets one piece of a policy: a tier's policies that select a pod, a term or
rule whose peers match the other end, ports that admit the flow (named ports resolved on the
destination pod), the address an ipBlock sees. The predicates the per-pair evaluator
(`explain`) applies, and the policy fixes reuse.
"""

from __future__ import annotations

from paramedic.kube import services
from paramedic.netpol import cluster, form, layers, model, peers, policies

Direction = model.Direction


def selecting(
    view: cluster.Cluster, tier: form.Tier, subject: peers.Peer, which: Direction
) -> list[form.Policy]:
    """The policies of `tier` that select `subject` for `which`, in tier order."""
    if not subject.selectable:
        return []
    return [
        p
        for p in tier.candidates(subject.namespace)
        if which in p.directions and subject_matches(view, p.subject, subject)
    ]


def isolating_policies(
    view: cluster.Cluster, subject: peers.Peer, which: Direction
) -> list[policies.Policy]:
    """The NetworkPolicies that isolate `subject` for `which` (what a NetworkPolicy fix edits)."""
    program = layers.program(view)
    return [
        p.source
        for t in program.tiers
        if t.isolating
        for p in selecting(view, t, subject, which)
        if isinstance(p.source, policies.Policy)
    ]


def subject_matches(view: cluster.Cluster, term: form.Term, pod: peers.Peer) -> bool:
    """Whether a pod-scoped term (a policy's subject) selects the pod `pod`."""
    if not pod.selectable:
        return False
    if term.namespace is not None and pod.namespace != term.namespace:
        return False
    if term.namespaces is not None and not term.namespaces.matches(
        view.namespace_labels(pod.namespace)
    ):
        return False
    return term.pods is None or term.pods.matches(pod.labels)


def term_matches(
    view: cluster.Cluster, term: form.Term, other: peers.Peer, semantics: model.Semantics
) -> bool:
    if term.off_pod_network and other.selectable:
        return False
    if term.pod_scoped and not subject_matches(view, term, other):
        return False
    if term.nets is not None or term.not_nets:
        addr = wire_address(view, other, semantics)
        if term.nets is not None and (addr is None or not any(b.contains(addr) for b in term.nets)):
            return False
        if addr is not None and any(b.contains(addr) for b in term.not_nets):
            return False
    if term.nodes is not None:
        labels = view.node_labels.get(other.network_ip or "")
        if not is_node(view, other) or labels is None or not term.nodes.matches(labels):
            return False
    return True


def wire_address(
    view: cluster.Cluster, other: peers.Peer, semantics: model.Semantics
) -> form.IP | None:
    """The address an ipBlock/CIDR sees for `other` (None: such rules never match it)."""
    if other.selectable and not semantics.ipblock_matches_pods:
        return None
    if not semantics.ipblock_matches_nodes and is_node(view, other):
        return None
    return form.address(other.network_ip)


def rule_peers_match(
    view: cluster.Cluster, rule: form.Rule, other: peers.Peer, semantics: model.Semantics
) -> bool:
    if rule.peers is None:
        return True
    return any(term_matches(view, term, other, semantics) for term in rule.peers)


def rule_ports_match(rule: form.Rule, dst: peers.Peer, port: int, protocol: str) -> bool | str:
    """True, or why not ('allows only TCP 80', 'allows port "db", which ... does not define')."""
    excluded = [s for s in rule.not_ports if _port_admits(s, dst, port, protocol)]
    if excluded:
        return f"excludes {', '.join(s.describe() for s in excluded)}"
    if rule.ports is None:
        return True
    unresolved = []
    for spec in rule.ports:
        if _port_admits(spec, dst, port, protocol):
            return True
        named = isinstance(spec.port, str) and spec.admits_protocol(protocol)
        if named and named_port(dst, str(spec.port), protocol) is None:
            unresolved.append(str(spec.port))
    allowed = ", ".join(s.describe() for s in rule.ports)
    if unresolved:
        return (
            f"allows port {', '.join(map(repr, unresolved))}, which {dst.describe()} "
            f"does not define for {protocol} (rule ports: {allowed}; wanted {protocol} {port})"
        )
    return f"allows only {allowed}, not {protocol} {port}"


def _port_admits(spec: policies.PortSpec, dst: peers.Peer, port: int, protocol: str) -> bool:
    if spec.matches_number(port, protocol):
        return True
    return (
        isinstance(spec.port, str)
        and spec.admits_protocol(protocol)
        and named_port(dst, spec.port, protocol) == port
    )


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


def from_own_node(src: peers.Peer, dst: peers.Peer) -> bool:
    return (
        dst.kind == "pod"
        and bool(dst.node_ip)
        and not src.selectable
        and src.network_ip == dst.node_ip
    )
