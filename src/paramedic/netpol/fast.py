"""All-pairs connectivity for one (port, protocol) with pod equivalence classes and bitsets.

Two pods are equivalent when no policy can tell them apart: same namespace, same values for
every label key any selector mentions, same set of referenced named ports that resolve to the
port, same IP-block atom (the interval between consecutive CIDR/except boundaries their IP falls
in), same hostNetwork-ness (hostNetwork pods: same node IP). Every selector is then matched once
per class (and cached per distinct selector), and sets of destination pods are Python ints used
as bitsets (bit j = pods[j]).

    E[s]  = destinations class s may reach by egress     (all pods when s is not isolated)
    IT[s] = destinations whose ingress admits class s    (built source-side: rule by rule)
    row(i in s) = E[s] & IT[s] | self bit

The result must equal `explain` pair by pair; tests/netpol check that with hypothesis.
"""

from __future__ import annotations

import bisect
import dataclasses
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.kube import objects, pods, selectors, services
from paramedic.netpol import cluster, model, peers, policies

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclasses.dataclass(slots=True, kw_only=True)
class _Class:
    index: int
    namespace: str
    labels: dict[str, str]
    names: frozenset[str]
    ip: IP | None
    host: bool
    node_ip: str | None
    members: int = 0


def rows(
    view: cluster.Cluster,
    pod_objs: Sequence[Mapping[str, Any]],
    port: int,
    protocol: str,
    semantics: model.Semantics = model.DEFAULT,
) -> list[int]:
    """Row bitsets: bit j of rows[i] says pod_objs[i] may open a connection to pod_objs[j]."""
    return _Engine(view, pod_objs, port, protocol, semantics).rows()


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
        self.class_of: list[int] = []
        self.by_ns: dict[str, list[int]] = {}
        self.by_label: dict[tuple[str, str, str], list[int]] = {}
        self.on_node: dict[str, int] = {}
        self._classify(pod_objs)
        self.named_bits = {
            name: _or(c.members for c in self.classes if name in c.names) for name in self.names
        }
        self._sel_cache: dict[tuple[str, str], list[int]] = {}
        self._ns_cache: dict[str, list[str]] = {}
        self._peer_cache: dict[tuple[str, str], tuple[int, ...]] = {}
        self._bits_cache: dict[tuple[int, ...], int] = {}

    # --- classes -------------------------------------------------------------------------------

    def _classify(self, pod_objs: Sequence[Mapping[str, Any]]) -> None:
        index: dict[tuple[Any, ...], int] = {}
        for i, obj in enumerate(pod_objs):
            peer = peers.Peer.pod(obj)
            bit = 1 << i
            if peer.node_ip:
                self.on_node[peer.node_ip] = self.on_node.get(peer.node_ip, 0) | bit
            wire = peer.network_ip
            ip = ipaddress.ip_address(wire) if wire else None
            if peer.host_network:
                key: tuple[Any, ...] = ("h", self._atom(ip), peer.node_ip)
                names: frozenset[str] = frozenset()
            else:
                names = self._names_at_port(obj)
                atom = self._atom(ip) if self.semantics.ipblock_matches_pods else None
                if not self.semantics.ipblock_matches_pods:
                    ip = None
                projected = tuple(sorted((k, v) for k, v in peer.labels.items() if k in self.keys))
                key = ("p", peer.namespace, projected, names, atom)
            k = index.get(key)
            if k is None:
                k = index[key] = len(self.classes)
                self.classes.append(
                    _Class(
                        index=k,
                        namespace=peer.namespace,
                        labels=dict(peer.labels),
                        names=names,
                        ip=ip,
                        host=peer.host_network,
                        node_ip=peer.node_ip,
                    )
                )
                if not peer.host_network:
                    self.by_ns.setdefault(peer.namespace, []).append(k)
                    for pair in projected:
                        self.by_label.setdefault((peer.namespace, *pair), []).append(k)
            self.classes[k].members |= bit
            self.class_of.append(k)

    def _atom(self, ip: IP | None) -> tuple[int, int] | None:
        if ip is None:
            return None
        return ip.version, bisect.bisect_right(self.bounds[ip.version], int(ip))

    def _names_at_port(self, obj: Mapping[str, Any]) -> frozenset[str]:
        if not self.names:
            return frozenset()
        defined = {
            cp.get("name")
            for c in pods.containers(obj)
            for cp in objects.as_list(c.get("ports"))
            if isinstance(cp, dict)
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
                        self.by_label.get((namespace, str(k), _label_value(v)), [])
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

    def _peer_classes(self, spec: policies.PeerSpec, policy_ns: str) -> tuple[int, ...]:
        cache_key = (spec.key, policy_ns)
        cached = self._peer_cache.get(cache_key)
        if cached is not None:
            return cached
        if spec.ip_block is not None:
            block = spec.ip_block
            found = [c.index for c in self.classes if c.ip is not None and block.contains(c.ip)]
        else:
            spaces = (
                [policy_ns]
                if spec.namespace_selector is None
                else self._namespaces(spec.namespace_key, spec.namespace_selector)
            )
            found = [k for ns in spaces for k in self._select(spec.pod_key, spec.pod_selector, ns)]
        result = tuple(found)
        self._peer_cache[cache_key] = result
        return result

    def _bits(self, class_ids: tuple[int, ...]) -> int:
        cached = self._bits_cache.get(class_ids)
        if cached is None:
            cached = self._bits_cache[class_ids] = _or(self.classes[k].members for k in class_ids)
        return cached

    def _rule_classes(self, rule: policies.Rule, policy_ns: str) -> tuple[int, ...] | None:
        """Classes a rule's peers select; None when the rule admits every peer."""
        if rule.peers is None:
            return None
        if len(rule.peers) == 1:
            return self._peer_classes(rule.peers[0], policy_ns)
        found: set[int] = set()
        for spec in rule.peers:
            found.update(self._peer_classes(spec, policy_ns))
        return tuple(sorted(found))

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
        ingress = self._ingress_by_source()
        out: list[int] = []
        class_rows: dict[int, int] = {}
        for i, k in enumerate(self.class_of):
            row = class_rows.get(k)
            if row is None:
                row = class_rows[k] = egress.get(k, self.all) & ingress[k]
            if self.semantics.self_always_allowed:
                row |= 1 << i
            out.append(row)
        return out

    def _egress(self) -> dict[int, int]:
        allowed: dict[int, int] = {}
        for policy in self.view.policies:
            if not policy.egress or policy.namespace not in self.by_ns:
                continue
            selected = self._select(policy.selector_key, policy.pod_selector, policy.namespace)
            if not selected:
                continue
            reach = 0
            for rule in policy.egress_rules:
                names = self._port_names(rule)
                ports = self.all if names is None else _or(self.named_bits.get(n, 0) for n in names)
                if not ports:
                    continue
                chosen = self._rule_classes(rule, policy.namespace)
                reach |= ports & (self.all if chosen is None else self._bits(chosen))
            for k in selected:
                allowed[k] = allowed.get(k, 0) | reach
        return allowed

    def _ingress_by_source(self) -> list[int]:
        isolated = 0
        groups: dict[tuple[int, ...] | None, int] = {}
        for policy in self.view.policies:
            if not policy.ingress or policy.namespace not in self.by_ns:
                continue
            selected = self._select(policy.selector_key, policy.pod_selector, policy.namespace)
            if not selected:
                continue
            isolated |= self._bits(tuple(selected))
            for rule in policy.ingress_rules:
                names = self._port_names(rule)
                if names is None:
                    dst = self._bits(tuple(selected))
                else:
                    dst = _or(
                        self.classes[k].members for k in selected if self.classes[k].names & names
                    )
                if not dst:
                    continue
                sources = self._rule_classes(rule, policy.namespace)
                groups[sources] = groups.get(sources, 0) | dst
        base = (self.all & ~isolated) | groups.pop(None, 0)
        result = [base] * len(self.classes)
        for sources, dst in groups.items():
            assert sources is not None
            for k in sources:
                result[k] |= dst
        if self.semantics.node_to_pod_allowed:
            for c in self.classes:
                if c.host and c.node_ip:
                    result[c.index] |= self.on_node.get(c.node_ip, 0)
        return result


def _label_value(value: Any) -> str:
    """A matchLabels value as selectors.matches compares it (YAML true -> "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


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
