"""All-pairs connectivity for one (port, protocol) with pod equivalence classes and bitsets.

Selectors cannot tell apart two pods with the same namespace, the same values for every label key
any selector mentions, the same referenced port names resolving to the port and the same
hostNetwork-ness (hostNetwork pods: the same node): they form one *selector class*. ipBlocks cannot
tell apart two addresses in the same *atom* (the interval between consecutive CIDR/except
boundaries). Every peer of every rule is a union of selector classes or of atoms, never a mix,
so each selector is matched once per class (cached per distinct selector, narrowed by an inverted
label index) and each ipBlock once per atom; sets of destination pods are Python ints used as
bitsets (bit j = pods[j]).

    E[c]            destinations selector class c may reach by egress (all, if not isolated)
    IS[c] | IA[a]   destinations whose ingress admits a source of class c with IP atom a
                    (built source-side, rule by rule: no transpose)
    row(i) = E[c(i)] & (IS[c(i)] | IA[a(i)]) | self bit

The result must equal `explain` pair by pair; tests/netpol check that with hypothesis.
"""

from __future__ import annotations

import bisect
import dataclasses
import gc
import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from paramedic.kube import objects, pods, selectors, services
from paramedic.netpol import cluster, model, policies

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Atom = tuple[int, int]


@dataclasses.dataclass(slots=True, kw_only=True)
class _Class:
    index: int
    namespace: str
    labels: dict[str, str]
    names: frozenset[str]
    host: bool
    node_ip: str | None
    members: int = 0


@dataclasses.dataclass(slots=True, kw_only=True)
class _Atom:
    ip: IP
    """One address in the atom: every address in it matches the same ipBlocks."""
    members: int = 0


def rows(
    view: cluster.Cluster,
    pod_objs: Sequence[Mapping[str, Any]],
    port: int,
    protocol: str,
    semantics: model.Semantics = model.DEFAULT,
) -> list[int]:
    """Row bitsets: bit j of rows[i] says pod_objs[i] may open a connection to pod_objs[j]."""
    # The cyclic GC would rescan the whole evidence (~10^6 objects) several times while we
    # allocate; nothing here creates cycles, so pause it (this halves and steadies the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Engine(view, pod_objs, port, protocol, semantics).rows()
    finally:
        if was_enabled:
            gc.enable()


Peers = tuple[tuple[int, ...], tuple[Atom, ...]]
"""What a peer (or a rule's peers) selects: selector class ids and atoms."""


class _Engine:
    def __init__(
        self,
        view: cluster.Cluster,
        pod_objs: Sequence[Mapping[str, Any]],
        port: int,
        protocol: str,
        semantics: model.Semantics,
    ) -> None:
        self.view, self.port, self.protocol, self.semantics = view, port, protocol, semantics
        self.n = len(pod_objs)
        self.all = (1 << self.n) - 1
        self.keys, self.names = _referenced(view.policies, protocol)
        self.bounds = _ip_bounds(view.policies)
        self.classes: list[_Class] = []
        self.atoms: dict[Atom, _Atom] = {}
        self.class_of: list[int] = []
        self.atom_of: list[Atom | None] = []
        self.by_ns: dict[str, list[int]] = {}
        self.by_label: dict[tuple[str, str, str], list[int]] = {}
        self.on_node: dict[str, int] = {}
        self._classify(pod_objs)
        self.named_bits = {
            name: _or(c.members for c in self.classes if name in c.names) for name in self.names
        }
        self._sel_cache: dict[tuple[str, str], list[int]] = {}
        self._ns_cache: dict[str, list[str]] = {}
        self._peer_cache: dict[tuple[str, str], Peers] = {}
        self._bits_cache: dict[Peers, int] = {}

    # --- classes -------------------------------------------------------------------------------

    def _classify(self, pod_objs: Sequence[Mapping[str, Any]]) -> None:
        index: dict[tuple[Any, ...], int] = {}
        for i, obj in enumerate(pod_objs):
            namespace, labels, pod_ip, node_ip, host = _pod_facts(obj)
            bit = 1 << i
            if node_ip:
                self.on_node[node_ip] = self.on_node.get(node_ip, 0) | bit
            wire = node_ip if host else pod_ip
            atom = None
            matchable = (
                self.semantics.ipblock_matches_nodes
                if host
                else self.semantics.ipblock_matches_pods
            )
            ip = _ip(wire) if wire and matchable else None
            if ip is not None:
                atom = (ip.version, bisect.bisect_right(self.bounds[ip.version], int(ip)))
                entry = self.atoms.get(atom)
                if entry is None:
                    entry = self.atoms[atom] = _Atom(ip=ip)
                entry.members |= bit
            self.atom_of.append(atom)
            projected: tuple[tuple[str, str], ...] = ()
            if host:
                key: tuple[Any, ...] = ("h", node_ip)
                names: frozenset[str] = frozenset()
            else:
                names = self._names_at_port(obj)
                projected = tuple(sorted((k, v) for k, v in labels.items() if k in self.keys))
                key = ("p", namespace, projected, names)
            k = index.get(key)
            if k is None:
                k = index[key] = len(self.classes)
                self.classes.append(
                    _Class(
                        index=k,
                        namespace=namespace,
                        labels=labels,
                        names=names,
                        host=host,
                        node_ip=node_ip,
                    )
                )
                if not host:
                    self.by_ns.setdefault(namespace, []).append(k)
                    for pair in projected:
                        self.by_label.setdefault((namespace, *pair), []).append(k)
            self.classes[k].members |= bit
            self.class_of.append(k)

    def _names_at_port(self, obj: Mapping[str, Any]) -> frozenset[str]:
        if not self.names:
            return frozenset()
        defined = {
            cp.get("name")
            for c in pods.containers(obj)
            for cp in objects.as_list(c.get("ports"))
            if isinstance(cp, dict) and isinstance(cp.get("name"), str)
        }
        return frozenset(
            n
            for n in self.names & defined
            if services.container_port(obj, n, self.protocol) == self.port
        )

    # --- selectors, cached -----------------------------------------------------------------------

    def _select(self, key: str, selector: Mapping[str, Any] | None, namespace: str) -> list[int]:
        """Classes in `namespace` that a pod selector (None: every pod) matches."""
        cached = self._sel_cache.get((key, namespace))
        if cached is None:
            candidates = self.by_ns.get(namespace, [])
            match_labels = (selector or {}).get("matchLabels") or {}
            if match_labels:  # narrow by the inverted index, then check the whole selector
                candidates = min(
                    (
                        self.by_label.get((namespace, str(k), objects.text(v)), [])
                        for k, v in match_labels.items()
                    ),
                    key=len,
                )
            if not selector:
                cached = list(candidates)
            else:
                cached = [
                    k for k in candidates if selectors.matches(selector, self.classes[k].labels)
                ]
            self._sel_cache[(key, namespace)] = cached
        return cached

    def _namespaces(self, key: str, selector: Mapping[str, Any]) -> list[str]:
        cached = self._ns_cache.get(key)
        if cached is None:
            cached = [
                ns
                for ns in self.by_ns
                if selectors.matches(selector, self.view.namespace_labels(ns))
            ]
            self._ns_cache[key] = cached
        return cached

    def _peer(self, spec: policies.PeerSpec, policy_ns: str) -> Peers:
        cache_key = (spec.key, policy_ns)
        cached = self._peer_cache.get(cache_key)
        if cached is not None:
            return cached
        if spec.ip_block is not None:
            block = spec.ip_block
            result: Peers = ((), tuple(a for a, e in self.atoms.items() if block.contains(e.ip)))
        else:
            spaces = (
                [policy_ns]
                if spec.namespace_selector is None
                else self._namespaces(spec.namespace_key, spec.namespace_selector)
            )
            found = [k for ns in spaces for k in self._select(spec.pod_key, spec.pod_selector, ns)]
            result = (tuple(found), ())
        self._peer_cache[cache_key] = result
        return result

    def _bits(self, chosen: Peers) -> int:
        cached = self._bits_cache.get(chosen)
        if cached is None:
            cached = _or(self.classes[k].members for k in chosen[0]) | _or(
                self.atoms[a].members for a in chosen[1]
            )
            self._bits_cache[chosen] = cached
        return cached

    def _rule_peers(self, rule: policies.Rule, policy_ns: str) -> Peers | None:
        """What a rule's peers select; None when the rule admits every peer."""
        if rule.peers is None:
            return None
        if len(rule.peers) == 1:
            return self._peer(rule.peers[0], policy_ns)
        classes: set[int] = set()
        atoms: set[Atom] = set()
        for spec in rule.peers:
            c, a = self._peer(spec, policy_ns)
            classes.update(c)
            atoms.update(a)
        return tuple(sorted(classes)), tuple(sorted(atoms))

    def _port_names(self, rule: policies.Rule) -> frozenset[str] | None:
        """None: the rule admits the port whatever the destination; else the names that could."""
        if rule.ports is None or any(
            s.matches_number(self.port, self.protocol) for s in rule.ports
        ):
            return None
        return frozenset(
            s.port for s in rule.ports if isinstance(s.port, str) and s.protocol == self.protocol
        )

    # --- the answer ------------------------------------------------------------------------------

    def rows(self) -> list[int]:
        egress = self._egress()
        by_class, by_atom = self._ingress_by_source()
        out: list[int] = []
        cache: dict[tuple[int, Atom | None], int] = {}
        for i, (k, atom) in enumerate(zip(self.class_of, self.atom_of, strict=True)):
            row = cache.get((k, atom))
            if row is None:
                admitted = by_class[k] | (by_atom.get(atom, 0) if atom is not None else 0)
                row = cache[(k, atom)] = egress.get(k, self.all) & admitted
            if self.semantics.self_always_allowed:
                row |= 1 << i
            out.append(row)
        return out

    def _isolating(self, direction: model.Direction) -> Iterator[tuple[policies.Policy, list[int]]]:
        """Each policy isolating `direction` for some class, with the classes it selects."""
        for policy in self.view.policies:
            if not policy.isolates(direction) or policy.namespace not in self.by_ns:
                continue
            selected = self._select(policy.selector_key, policy.pod_selector, policy.namespace)
            if selected:
                yield policy, selected

    def _egress(self) -> dict[int, int]:
        allowed: dict[int, int] = {}
        for policy, selected in self._isolating(model.Direction.EGRESS):
            reach = 0
            for rule in policy.egress_rules:
                names = self._port_names(rule)
                ports = self.all if names is None else _or(self.named_bits.get(n, 0) for n in names)
                if not ports:
                    continue
                chosen = self._rule_peers(rule, policy.namespace)
                reach |= ports & (self.all if chosen is None else self._bits(chosen))
            for k in selected:
                allowed[k] = allowed.get(k, 0) | reach
        return allowed

    def _ingress_by_source(self) -> tuple[list[int], dict[Atom, int]]:
        isolated = 0
        everyone = 0
        class_groups: dict[tuple[int, ...], int] = {}
        atom_groups: dict[tuple[Atom, ...], int] = {}
        for policy, selected in self._isolating(model.Direction.INGRESS):
            selected_bits = self._bits((tuple(selected), ()))
            isolated |= selected_bits
            for rule in policy.ingress_rules:
                names = self._port_names(rule)
                if names is None:
                    dst = selected_bits
                else:
                    dst = _or(
                        self.classes[k].members for k in selected if self.classes[k].names & names
                    )
                if not dst:
                    continue
                sources = self._rule_peers(rule, policy.namespace)
                if sources is None:
                    everyone |= dst
                    continue
                if sources[0]:
                    class_groups[sources[0]] = class_groups.get(sources[0], 0) | dst
                if sources[1]:
                    atom_groups[sources[1]] = atom_groups.get(sources[1], 0) | dst
        base = (self.all & ~isolated) | everyone
        by_class = [base] * len(self.classes)
        for class_ids, dst in class_groups.items():
            for k in class_ids:
                by_class[k] |= dst
        if self.semantics.node_to_pod_allowed:
            for c in self.classes:
                if c.host and c.node_ip:
                    by_class[c.index] |= self.on_node.get(c.node_ip, 0)
        by_atom: dict[Atom, int] = {}
        for atom_ids, dst in atom_groups.items():
            for a in atom_ids:
                by_atom[a] = by_atom.get(a, 0) | dst
        return by_class, by_atom


def _pod_facts(obj: Mapping[str, Any]) -> tuple[str, dict[str, str], str | None, str | None, bool]:
    """(namespace, labels, pod IP, node IP, hostNetwork): what peers.Peer.pod reads, minus the
    value object (building 10,000 of those is most of the classification time)."""
    status = objects.status(obj)
    return (
        objects.namespace(obj) or "default",
        objects.labels(obj),
        str(status.get("podIP") or "") or None,
        str(status.get("hostIP") or "") or None,
        bool(objects.spec(obj).get("hostNetwork")),
    )


def _or(values: Any) -> int:
    out = 0
    for v in values:
        out |= v
    return out


def _referenced(items: Sequence[policies.Policy], protocol: str) -> tuple[set[str], set[str]]:
    """Label keys any pod selector mentions; port names any rule of `protocol` mentions."""
    keys: set[str] = set()
    names: set[str] = set()
    for policy in items:
        keys |= _selector_keys(policy.pod_selector)
        for rule in (*policy.ingress_rules, *policy.egress_rules):
            for peer in rule.peers or ():
                keys |= _selector_keys(peer.pod_selector)
            for spec in rule.ports or ():
                if isinstance(spec.port, str) and spec.protocol == protocol:
                    names.add(spec.port)
    return keys, names


def _selector_keys(selector: Mapping[str, Any] | None) -> set[str]:
    if not selector:
        return set()
    keys = {str(k) for k in (selector.get("matchLabels") or {})}
    keys.update(str(e.get("key", "")) for e in selector.get("matchExpressions") or [])
    return keys


def _ip_bounds(items: Sequence[policies.Policy]) -> dict[int, list[int]]:
    """Sorted interval boundaries of every CIDR and except, per IP version."""
    bounds: dict[int, set[int]] = {4: set(), 6: set()}
    for policy in items:
        for rule in (*policy.ingress_rules, *policy.egress_rules):
            for peer in rule.peers or ():
                if peer.ip_block is None:
                    continue
                for net in (peer.ip_block.cidr, *peer.ip_block.excepts):
                    bounds[net.version].add(int(net.network_address))
                    bounds[net.version].add(int(net.broadcast_address) + 1)
    return {v: sorted(b) for v, b in bounds.items()}


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, or None for a podIP/hostIP that is not one (a hand-made bundle's "x"):
    such a pod matches no ipBlock, as in explain.peer_matches."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
