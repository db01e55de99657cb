"""Which other ends each term and rule of the compiled form matches, as bitsets (for `decide`).

An egress rule's other ends are destination *pods* (bits over pods); an ingress rule's are
source *keys* (bits over `classes` source keys). Each side is computed only where a walk needs
it, and cached: a term once per side, a rule once per side (an ingress rule once per set of port
names its destinations define), a CIDR's atoms once per term. Pods are found by `selection`.
"""

from __future__ import annotations

from collections.abc import Iterable

from paramedic.netpol import classes, form, policies, selection

PODS, KEYS = 0, 1
"""The two sides: bits over pods (destinations), bits over source keys (sources)."""


class RuleBits:
    def __init__(self, select: selection.Selection, port: int, protocol: str) -> None:
        self.select, self.found, self.port, self.protocol = select, select.found, port, protocol
        self._terms: dict[tuple[str, int], int] = {}
        self._atoms: dict[str, tuple[list[classes.Atom], list[classes.Atom]]] = {}
        self._rules: dict[tuple[int, frozenset[str] | None], int] = {}

    def term(self, term: form.Term, side: int) -> int:
        """The pods (PODS) or source keys (KEYS) a term matches."""
        cached = self._terms.get((term.key, side))
        if cached is not None:
            return cached
        found = self.found
        every = found.classes
        bits = found.all if side == PODS else found.kall
        if term.pod_scoped:
            bits &= classes.union(
                self.select.select_bits(term.pods, scope, side)
                for scope in self.select.scopes(term)
            )
        if term.nets is not None or term.not_nets:
            inside, outside = self._term_atoms(term)
            by_atom = found.atoms if side == PODS else found.keys_of_atom
            if term.nets is not None:
                bits &= classes.union(by_atom[a] for a in inside)
            if outside:
                bits &= ~classes.union(by_atom[a] for a in outside)
        hosts: Iterable[int] | None = None
        if term.off_pod_network:
            hosts = [c.index for c in every if c.host]
        if term.nodes is not None:  # (with off_pod_network too: these hosts are among those)
            nodes = term.nodes
            labels = self.select.view.node_labels
            hosts = [
                c.index
                for c in every
                if c.host and (c.node_ip or "") in labels and nodes.matches(labels[c.node_ip or ""])
            ]
        if hosts is not None:
            if side == PODS:
                bits &= classes.union(every[k].members for k in hosts)
            else:
                bits &= classes.union(found.keys_of_class[k] for k in hosts)
        self._terms[(term.key, side)] = bits
        return bits

    def _term_atoms(self, term: form.Term) -> tuple[list[classes.Atom], list[classes.Atom]]:
        """The atoms inside the term's nets, and those inside its not_nets."""
        cached = self._atoms.get(term.key)
        if cached is None:
            atom_ip = self.found.atom_ip
            inside = [
                a for a, ip in atom_ip.items() if any(b.contains(ip) for b in term.nets or ())
            ]
            outside = [a for a, ip in atom_ip.items() if any(b.contains(ip) for b in term.not_nets)]
            cached = self._atoms[term.key] = (inside, outside)
        return cached

    def peers(self, rule: form.Rule, side: int) -> int:
        """The pods (PODS) or source keys (KEYS) a rule's peers match."""
        if rule.peers is None:
            return self.found.all if side == PODS else self.found.kall
        return classes.union(self.term(term, side) for term in rule.peers)

    def egress(self, rule: form.Rule) -> int:
        """Destination pods an egress rule matches (peers and ports)."""
        got = self._rules.get((id(rule), None))
        if got is None:
            ports = self.dest_ports(rule)
            got = self._rules[(id(rule), None)] = ports and ports & self.peers(rule, PODS)
        return got

    def ingress(self, rule: form.Rule, names: frozenset[str]) -> int:
        """Source keys an ingress rule matches on a destination defining port `names`."""
        got = self._rules.get((id(rule), names))
        if got is None:
            got = self.peers(rule, KEYS) if self.applies_to(rule, names) else 0
            self._rules[(id(rule), names)] = got
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
        named = self.select.named_bits
        names = self._port_names(rule.ports)
        bits = self.found.all if names is None else classes.union(named.get(n, 0) for n in names)
        if rule.not_ports:
            out = self._port_names(rule.not_ports)
            if out is None:
                return 0
            bits &= ~classes.union(named.get(n, 0) for n in out)
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
