"""Which classes, pods and source keys each part of the compiled form selects (for `fast`).

Every answer is cached: a pod predicate per (predicate, namespace), a namespace predicate once,
a term once (its pod bits and source-key bits), a rule's ports once. A pod predicate reads only
its own label keys, so it is evaluated once per distinct *projection* of a class's labels onto
those keys (a *cell*: e.g. one per `app` value in a namespace, one for a whole namespace when
the predicate reads namespace labels) and the verdict is shared by every class and namespace
with that projection.
"""

from __future__ import annotations

from collections.abc import Iterable

from paramedic.netpol import classes, cluster, form, policies

Cell = tuple[tuple[str | None, ...], list[int]]
"""Label values on a key set (None where absent), the classes having them."""
Cells = dict[str | None, list[Cell]]
"""Per namespace: (label values on a key set, None where absent) -> the classes having them."""
Index = dict[tuple[str | None, str], list[Cell]]


class Selection:
    def __init__(
        self, view: cluster.Cluster, found: classes.Classes, port: int, protocol: str,
        names: Iterable[str],
    ) -> None:  # fmt: skip
        self.view, self.found, self.port, self.protocol = view, found, port, protocol
        self.named_bits = found.named(names)
        self._cells: dict[tuple[str, ...], Cells] = {}
        self._indexes: dict[tuple[tuple[str, ...], str], Index] = {}
        self._verdicts: dict[tuple[str, tuple[str | None, ...]], bool] = {}
        self._sorted: dict[str, tuple[str, ...]] = {}
        self._sel_cache: dict[tuple[str, str | None], list[int]] = {}
        self._match_cache: dict[tuple[str, str | None], list[Cell]] = {}
        self._bits_cache: dict[tuple[str, str | None], tuple[int, int]] = {}
        self._cell_bits: dict[int, tuple[int, int]] = {}
        self._ns_cache: dict[str, list[str]] = {}
        self._spaces: dict[frozenset[str], list[str]] = {}
        self._ns_groups: dict[tuple[str, ...], list[tuple[tuple[str | None, ...], list[str]]]] = {}
        self._term_cache: dict[str, tuple[int, int]] = {}
        self._rule_cache: dict[tuple[int, frozenset[str] | None], int] = {}

    # --- pods and namespaces ---------------------------------------------------------------------

    def select(self, pods: form.LabelMatch | None, namespace: str | None) -> list[int]:
        """Classes in `namespace` (None: in any) that a pod predicate (None: every pod) matches."""
        key = ("-" if pods is None else pods.key, namespace)
        cached = self._sel_cache.get(key)
        if cached is None:
            cached = [k for _, members in self._matching(pods, namespace) for k in members]
            self._sel_cache[key] = cached
        return cached

    def select_bits(self, pods: form.LabelMatch | None, namespace: str | None) -> tuple[int, int]:
        """(pod bits, source-key bits) of `select`."""
        key = ("-" if pods is None else pods.key, namespace)
        cached = self._bits_cache.get(key)
        if cached is None:
            found = self.found
            pod_bits = key_bits = 0
            for _, members in self._matching(pods, namespace):
                cell = self._cell_bits.get(id(members))
                if cell is None:
                    cell = self._cell_bits[id(members)] = (
                        found.pods_of(members),
                        found.keys_of(members),
                    )
                pod_bits |= cell[0]
                key_bits |= cell[1]
            cached = self._bits_cache[key] = (pod_bits, key_bits)
        return cached

    def _matching(self, pods: form.LabelMatch | None, namespace: str | None) -> list[Cell]:
        """The cells in `namespace` (None: in any) whose classes `pods` matches."""
        key = "-" if pods is None else pods.key
        cached = self._match_cache.get((key, namespace))
        if cached is not None:
            return cached
        if pods is None:
            cached = self._cells_on(()).get(namespace, [])
        else:
            keys = self._sorted.get(key)
            if keys is None:
                keys = self._sorted[key] = tuple(sorted(pods.keys))
            candidates = self._cells_on(keys).get(namespace, ())
            for k, v in pods.required.items():  # narrow by the index first
                narrowed = self._index(keys, k).get((namespace, v), ())
                if len(narrowed) < len(candidates):
                    candidates = narrowed
            cached = []
            for cell in candidates:
                verdict = self._verdicts.get((key, cell[0]))
                if verdict is None:
                    labels = {k: v for k, v in zip(keys, cell[0], strict=True) if v is not None}
                    verdict = self._verdicts[(key, cell[0])] = pods.matches(labels)
                if verdict:
                    cached.append(cell)
        self._match_cache[(key, namespace)] = cached
        return cached

    def _cells_on(self, keys: tuple[str, ...]) -> Cells:
        """The cells on a key set per namespace, and across all of them (under None)."""
        cells = self._cells.get(keys)
        if cells is None:
            cells = self._cells[keys] = {}
            every = self.found.classes
            spanning: dict[tuple[str | None, ...], list[int]] = {}
            for namespace, members in self.found.by_ns.items():
                groups: dict[tuple[str | None, ...], list[int]] = {}
                for k in members:
                    labels = every[k].labels
                    groups.setdefault(tuple([labels.get(x) for x in keys]), []).append(k)
                cells[namespace] = list(groups.items())
                for values, group in groups.items():
                    spanning.setdefault(values, []).extend(group)
            cells[None] = list(spanning.items())
        return cells

    def _index(self, keys: tuple[str, ...], label: str) -> Index:
        """Per (namespace or None, value): the cells on `keys` whose `label` has that value."""
        index = self._indexes.get((keys, label))
        if index is None:
            index = self._indexes[(keys, label)] = {}
            at = keys.index(label)
            for scope, found in self._cells_on(keys).items():
                for cell in found:
                    value = cell[0][at]
                    if value is not None:
                        index.setdefault((scope, value), []).append(cell)
        return index

    def namespaces(self, match: form.LabelMatch) -> list[str]:
        """The namespaces whose labels `match` matches: evaluated once per distinct projection
        of namespace labels onto the keys it reads."""
        cached = self._ns_cache.get(match.key)
        if cached is None:
            keys = tuple(sorted(match.keys))
            groups = self._ns_groups.get(keys)
            if groups is None:
                found: dict[tuple[str | None, ...], list[str]] = {}
                for ns in self.found.by_ns:
                    labels = self.view.namespace_labels(ns)
                    found.setdefault(tuple([labels.get(k) for k in keys]), []).append(ns)
                groups = self._ns_groups[keys] = list(found.items())
            cached = []
            for values, spaces in groups:
                labels = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
                if match.matches(labels):
                    cached += spaces
            self._ns_cache[match.key] = cached
        return cached

    def term_classes(self, term: form.Term, spaces: frozenset[str] | None = None) -> list[int]:
        """The pod-network classes a term's pod parts select (only those in `spaces`, if given:
        then a predicate is evaluated only there)."""
        scopes = self._scopes(term)
        if spaces is not None:
            scopes = [
                ns
                for scope in scopes
                for ns in (self._ordered(spaces) if scope is None else (scope,))
                if ns in spaces
            ]
        return [k for scope in scopes for k in self.select(term.pods, scope)]

    def _ordered(self, spaces: frozenset[str]) -> list[str]:
        """`spaces` that hold pods, in a fixed order."""
        found = self._spaces.get(spaces)
        if found is None:
            found = self._spaces[spaces] = [ns for ns in self.found.by_ns if ns in spaces]
        return found

    def _scopes(self, term: form.Term) -> list[str | None]:
        """The namespaces a term's pods may be in (None: every one)."""
        if term.namespace is not None:
            spaces = [term.namespace] if term.namespace in self.found.by_ns else []
            if term.namespaces is not None:
                spaces = [ns for ns in spaces if ns in self.namespaces(term.namespaces)]
            return list(spaces)
        if term.namespaces is None:
            return [None]
        spaces = self.namespaces(term.namespaces)
        return [None] if len(spaces) == len(self.found.by_ns) else list(spaces)

    # --- terms and rules ------------------------------------------------------------------------

    def term(self, term: form.Term) -> tuple[int, int]:
        """(pod bits, source-key bits) of the endpoints a term matches."""
        cached = self._term_cache.get(term.key)
        if cached is not None:
            return cached
        found = self.found
        every = found.classes
        pods, keys = found.all, found.kall
        if term.pod_scoped:
            p = k = 0
            for scope in self._scopes(term):
                bits = self.select_bits(term.pods, scope)
                p |= bits[0]
                k |= bits[1]
            pods &= p
            keys &= k
        if term.nets is not None:
            nets = term.nets
            atoms = [a for a, ip in found.atom_ip.items() if any(b.contains(ip) for b in nets)]
            pods &= classes.union(found.atoms[a] for a in atoms)
            keys &= classes.union(found.keys_of_atom[a] for a in atoms)
        if term.not_nets:
            out = [
                a for a, ip in found.atom_ip.items() if any(b.contains(ip) for b in term.not_nets)
            ]
            pods &= ~classes.union(found.atoms[a] for a in out)
            keys &= ~classes.union(found.keys_of_atom[a] for a in out)
        if term.off_pod_network:
            hosts = [c.index for c in every if c.host]
            pods &= classes.union(every[k].members for k in hosts)
            keys &= classes.union(found.keys_of_class[k] for k in hosts)
        if term.nodes is not None:
            nodes = term.nodes
            labels = self.view.node_labels
            hosts = [
                c.index
                for c in every
                if c.host and (c.node_ip or "") in labels and nodes.matches(labels[c.node_ip or ""])
            ]
            pods &= classes.union(every[k].members for k in hosts)
            keys &= classes.union(found.keys_of_class[k] for k in hosts)
        self._term_cache[term.key] = (pods, keys)
        return pods, keys

    def peers(self, rule: form.Rule) -> tuple[int, int]:
        """(pod bits, source-key bits) of the other ends a rule's peers match."""
        if rule.peers is None:
            return self.found.all, self.found.kall
        pods = keys = 0
        for term in rule.peers:
            p, k = self.term(term)
            pods |= p
            keys |= k
        return pods, keys

    def egress_bits(self, rule: form.Rule) -> int:
        """Destination pods an egress rule matches (peers and ports)."""
        got = self._rule_cache.get((id(rule), None))
        if got is None:
            got = self._rule_cache[(id(rule), None)] = self.dest_ports(rule) & self.peers(rule)[0]
        return got

    def ingress_bits(self, rule: form.Rule, names: frozenset[str]) -> int:
        """Source keys an ingress rule matches on a destination defining port `names`."""
        got = self._rule_cache.get((id(rule), names))
        if got is None:
            got = self.peers(rule)[1] if self.applies_to(rule, names) else 0
            self._rule_cache[(id(rule), names)] = got
        return got

    def _port_names(self, specs: tuple[policies.PortSpec, ...] | None) -> frozenset[str] | None:
        """None: the specs admit the port whatever the destination; else the names that could."""
        if specs is None or any(s.matches_number(self.port, self.protocol) for s in specs):
            return None
        return frozenset(
            s.port for s in specs if isinstance(s.port, str) and s.admits_protocol(self.protocol)
        )

    def dest_ports(self, rule: form.Rule) -> int:
        """Destination pods on which the rule's ports admit the flow."""
        names = self._port_names(rule.ports)
        bits = (
            self.found.all
            if names is None
            else classes.union(self.named_bits.get(n, 0) for n in names)
        )
        if rule.not_ports:
            out = self._port_names(rule.not_ports)
            if out is None:
                return 0
            bits &= ~classes.union(self.named_bits.get(n, 0) for n in out)
        return bits

    def applies_to(self, rule: form.Rule, names: frozenset[str]) -> bool:
        """Whether the rule's ports admit the flow on a destination defining port `names`."""
        wanted = self._port_names(rule.ports)
        if wanted is not None and not wanted & names:
            return False
        if rule.not_ports:
            out = self._port_names(rule.not_ports)
            if out is None or out & names:
                return False
        return True
