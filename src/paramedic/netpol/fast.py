"""All-pairs connectivity for one (port, protocol): the compiled form over classes and bitsets.

Selectors cannot tell apart two pods with the same namespace, the same values for every label key
any selector mentions, the same referenced port names resolving to the port and the same
hostNetwork-ness (hostNetwork pods: the same node): they form one *selector class*. CIDRs cannot
tell apart two addresses in the same *atom* (the interval between consecutive CIDR/except
boundaries). So every term of every rule selects a set of classes AND/OR a set of atoms: each
selector is matched once per class (cached per distinct term, narrowed by an inverted label
index), each CIDR once per atom. Sets of pods are Python ints used as bitsets.

    egress   per source class: the tiers walked over destination-pod bitsets (rule by rule, in
             order: Allow/Deny/Pass take their matches out of the undecided set; a tier's end
             applies if one of its policies selected the class), memoised by the sequence of
             selecting policies
    ingress  per destination class the same walk over *source keys* (distinct class x atom),
             then turned source-side: key s -> destinations admitting it (small sets listed,
             large ones as complements, so no 10,000 x 10,000 transpose)
    row(i) = E[c(i)] & admitted(key(i)) | own-node | self bit

The result must equal `explain` pair by pair; tests/netpol check that with hypothesis.
"""

from __future__ import annotations

import bisect
import dataclasses
import gc
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.kube import objects, pods, services
from paramedic.netpol import cluster, form, layers, model, policies

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
        self.program = layers.program(view, semantics.cni)
        self.keys, self.names = _referenced(self.program, protocol)
        self.bounds = _ip_bounds(self.program)
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
        self._term_cache: dict[str, tuple[int, int]] = {}
        self._keys()

    # --- classes -------------------------------------------------------------------------------

    def _classify(self, pod_objs: Sequence[Mapping[str, Any]]) -> None:
        index: dict[tuple[Any, ...], int] = {}
        for i, obj in enumerate(pod_objs):
            namespace, labels, pod_ip, node_ip, host = _pod_facts(obj)
            if self.program.pod_labels is not None and not host:
                labels = dict(self.program.labels_of(namespace, labels, obj))
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

    def _keys(self) -> None:
        """Source keys: the distinct (class, atom) pairs, and each class's / atom's key bits."""
        index: dict[tuple[int, Atom | None], int] = {}
        self.key_of: list[int] = []
        self.key_class: list[int] = []
        self.keys_of_class = [0] * len(self.classes)
        self.keys_of_atom: dict[Atom, int] = {}
        for k, atom in zip(self.class_of, self.atom_of, strict=True):
            s = index.get((k, atom))
            if s is None:
                s = index[(k, atom)] = len(index)
                self.key_class.append(k)
                self.keys_of_class[k] |= 1 << s
                if atom is not None:
                    self.keys_of_atom[atom] = self.keys_of_atom.get(atom, 0) | 1 << s
            self.key_of.append(s)
        self.kcount = len(index)
        self.kall = (1 << self.kcount) - 1

    def _select(self, pods: form.LabelMatch | None, namespace: str) -> list[int]:
        """Classes in `namespace` that a pod predicate (None: every pod) matches."""
        key = "-" if pods is None else pods.key
        cached = self._sel_cache.get((key, namespace))
        if cached is None:
            candidates = self.by_ns.get(namespace, [])
            required = pods.required if pods is not None else {}
            if required:  # narrow by the inverted index, then check the whole predicate
                candidates = min(
                    (self.by_label.get((namespace, k, v), []) for k, v in required.items()),
                    key=len,
                )
            if pods is None:
                cached = list(candidates)
            else:
                cached = [k for k in candidates if pods.matches(self.classes[k].labels)]
            self._sel_cache[(key, namespace)] = cached
        return cached

    def _namespaces(self, match: form.LabelMatch) -> list[str]:
        cached = self._ns_cache.get(match.key)
        if cached is None:
            cached = [ns for ns in self.by_ns if match.matches(self.view.namespace_labels(ns))]
            self._ns_cache[match.key] = cached
        return cached

    def _term_classes(self, term: form.Term) -> list[int]:
        """The pod-network classes a term's pod parts select."""
        if term.namespace is not None:
            spaces = [term.namespace] if term.namespace in self.by_ns else []
            if term.namespaces is not None:
                spaces = [ns for ns in spaces if ns in self._namespaces(term.namespaces)]
        elif term.namespaces is not None:
            spaces = self._namespaces(term.namespaces)
        else:
            spaces = list(self.by_ns)
        return [k for ns in spaces for k in self._select(term.pods, ns)]

    def _term(self, term: form.Term) -> tuple[int, int]:
        """(pod bits, source-key bits) of the endpoints a term matches."""
        cached = self._term_cache.get(term.key)
        if cached is not None:
            return cached
        pods, keys = self.all, self.kall
        if term.pod_scoped:
            chosen = self._term_classes(term)
            pods &= _or(self.classes[k].members for k in chosen)
            keys &= _or(self.keys_of_class[k] for k in chosen)
        if term.nets is not None:
            atoms = [a for a, e in self.atoms.items() if any(b.contains(e.ip) for b in term.nets)]
            pods &= _or(self.atoms[a].members for a in atoms)
            keys &= _or(self.keys_of_atom[a] for a in atoms)
        if term.not_nets:
            out = [a for a, e in self.atoms.items() if any(b.contains(e.ip) for b in term.not_nets)]
            pods &= ~_or(self.atoms[a].members for a in out)
            keys &= ~_or(self.keys_of_atom[a] for a in out)
        if term.off_pod_network:
            hosts = [c.index for c in self.classes if c.host]
            pods &= _or(self.classes[k].members for k in hosts)
            keys &= _or(self.keys_of_class[k] for k in hosts)
        if term.nodes is not None:
            hosts = [
                c.index
                for c in self.classes
                if c.host
                and (c.node_ip or "") in self.view.node_labels
                and term.nodes.matches(self.view.node_labels[c.node_ip or ""])
            ]
            pods &= _or(self.classes[k].members for k in hosts)
            keys &= _or(self.keys_of_class[k] for k in hosts)
        self._term_cache[term.key] = (pods, keys)
        return pods, keys

    # --- rules -------------------------------------------------------------------------------

    def _peers(self, rule: form.Rule) -> tuple[int, int]:
        if rule.peers is None:
            return self.all, self.kall
        pods = keys = 0
        for term in rule.peers:
            p, k = self._term(term)
            pods |= p
            keys |= k
        return pods, keys

    def _port_names(self, specs: tuple[policies.PortSpec, ...] | None) -> frozenset[str] | None:
        """None: the specs admit the port whatever the destination; else the names that could."""
        if specs is None or any(s.matches_number(self.port, self.protocol) for s in specs):
            return None
        return frozenset(
            s.port for s in specs if isinstance(s.port, str) and s.admits_protocol(self.protocol)
        )

    def _dest_ports(self, rule: form.Rule) -> int:
        """Destination pods on which the rule's ports admit the flow."""
        names = self._port_names(rule.ports)
        bits = self.all if names is None else _or(self.named_bits.get(n, 0) for n in names)
        if rule.not_ports:
            out = self._port_names(rule.not_ports)
            if out is None:
                return 0
            bits &= ~_or(self.named_bits.get(n, 0) for n in out)
        return bits

    def _applies_to(self, rule: form.Rule, names: frozenset[str]) -> bool:
        """Whether the rule's ports admit the flow on a destination defining port `names`."""
        wanted = self._port_names(rule.ports)
        if wanted is not None and not wanted & names:
            return False
        if rule.not_ports:
            out = self._port_names(rule.not_ports)
            if out is None or out & names:
                return False
        return True

    # --- the answer ------------------------------------------------------------------------------

    def rows(self) -> list[int]:
        egress = self._egress()
        admitted = self._admitted()
        out: list[int] = []
        for i, (k, s) in enumerate(zip(self.class_of, self.key_of, strict=True)):
            row = egress.get(k, self.all) & admitted[s]
            if self.semantics.self_always_allowed:
                row |= 1 << i
            out.append(row)
        return out

    def _selecting(self, which: model.Direction) -> dict[int, list[tuple[int, form.Policy]]]:
        """Per class: (tier index, policy) of every policy selecting it for `which`, in order."""
        found: dict[int, list[tuple[int, form.Policy]]] = {}
        for t, tier in enumerate(self.program.tiers):
            for policy in tier.policies:
                if which not in policy.directions:
                    continue
                for k in self._term_classes(policy.subject):
                    found.setdefault(k, []).append((t, policy))
        return found

    def _walk(
        self,
        chosen: list[tuple[int, form.Policy]],
        which: model.Direction,
        full: int,
        rule_bits: Any,
    ) -> int:
        """form's evaluation for one subject, over a whole set of other ends at once: each
        enforcement point's tiers in turn; what one point denies, the next no longer sees."""
        tiers = self.program.tiers
        result, i = full, 0
        while i < len(chosen) and result:
            point, j = tiers[chosen[i][0]].point, i
            while j < len(chosen) and tiers[chosen[j][0]].point == point:
                j += 1
            result = self._walk_point(chosen[i:j], which, result, rule_bits)
            i = j
        return result

    def _walk_point(
        self,
        chosen: list[tuple[int, form.Policy]],
        which: model.Direction,
        full: int,
        rule_bits: Any,
    ) -> int:
        undecided, allowed = full, 0
        tiers = self.program.tiers
        i = 0
        while i < len(chosen) and undecided:
            t = chosen[i][0]
            passed = 0
            while i < len(chosen) and chosen[i][0] == t:
                for rule in chosen[i][1].rules(which):
                    m = rule_bits(rule) & undecided
                    if not m:
                        continue
                    undecided &= ~m
                    if rule.action is form.Action.ALLOW:
                        allowed |= m
                    elif rule.action is form.Action.PASS:
                        passed |= m
                i += 1
            undecided = passed if tiers[t].end is form.Action.DENY else undecided | passed
        return allowed | undecided

    def _egress(self) -> dict[int, int]:
        memo: dict[tuple[int, ...], int] = {}
        rule_cache: dict[int, int] = {}

        def bits(rule: form.Rule) -> int:
            got = rule_cache.get(id(rule))
            if got is None:
                got = rule_cache[id(rule)] = self._dest_ports(rule) & self._peers(rule)[0]
            return got

        allowed: dict[int, int] = {}
        for k, chosen in self._selecting(model.Direction.EGRESS).items():
            if self.classes[k].host:
                continue
            sig = tuple(id(p) for _, p in chosen)
            if sig not in memo:
                memo[sig] = self._walk(chosen, model.Direction.EGRESS, self.all, bits)
            allowed[k] = memo[sig]
        return allowed

    def _admitted(self) -> list[int]:
        """Per source key: the destination pods whose ingress admits it."""
        memo: dict[tuple[Any, ...], int] = {}
        rule_cache: dict[tuple[int, frozenset[str]], int] = {}
        groups: dict[int, int] = {}
        selecting = self._selecting(model.Direction.INGRESS)
        for c in self.classes:
            chosen = selecting.get(c.index)
            if not chosen or c.host:
                groups[self.kall] = groups.get(self.kall, 0) | c.members
                continue
            names = c.names

            def bits(rule: form.Rule, names: frozenset[str] = names) -> int:
                got = rule_cache.get((id(rule), names))
                if got is None:
                    got = self._peers(rule)[1] if self._applies_to(rule, names) else 0
                    rule_cache[(id(rule), names)] = got
                return got

            sig = (tuple(id(p) for _, p in chosen), names)
            if sig not in memo:
                memo[sig] = self._walk(chosen, model.Direction.INGRESS, self.kall, bits)
            groups[memo[sig]] = groups.get(memo[sig], 0) | c.members
        pos = [0] * self.kcount
        neg = [0] * self.kcount
        wide = 0
        for sources, dst in groups.items():
            if sources.bit_count() * 2 <= self.kcount:
                for s in _bits(sources):
                    pos[s] |= dst
            else:
                wide |= dst
                for s in _bits(self.kall & ~sources):
                    neg[s] |= dst
        out = [pos[s] | (wide & ~neg[s]) for s in range(self.kcount)]
        if self.semantics.node_to_pod_allowed:
            for s, k in enumerate(self.key_class):
                c = self.classes[k]
                if c.host and c.node_ip:
                    out[s] |= self.on_node.get(c.node_ip, 0)
        return out


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


def _bits(value: int) -> list[int]:
    """Indexes of the set bits, lowest first: one text conversion and C-level searches (peeling
    bits off a 10,000-bit int costs three big-int operations per bit)."""
    text = format(value, "b")[::-1]
    found = []
    i = text.find("1")
    while i >= 0:
        found.append(i)
        i = text.find("1", i + 1)
    return found


def _referenced(program: form.Program, protocol: str) -> tuple[set[str], set[str]]:
    """Pod label keys any term reads; port names any rule of `protocol` mentions."""
    keys: set[str] = set()
    for term in program.terms():
        keys |= term.label_keys()
    names = {
        spec.port
        for rule in program.rules()
        for spec in (*(rule.ports or ()), *rule.not_ports)
        if isinstance(spec.port, str) and spec.admits_protocol(protocol)
    }
    return keys, names


def _ip_bounds(program: form.Program) -> dict[int, list[int]]:
    """Sorted interval boundaries of every CIDR and except, per IP version."""
    bounds: dict[int, set[int]] = {4: set(), 6: set()}
    for term in program.terms():
        for block in term.networks():
            for net in (block.cidr, *block.excepts):
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
