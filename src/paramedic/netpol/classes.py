"""The pods of the all-pairs matrix as equivalence classes, atoms and source keys (for `fast`).

Selectors cannot tell apart two pods with the same namespace, the same values for every label key
any selector mentions, the same referenced port names resolving to the port and the same
hostNetwork-ness (hostNetwork pods: the same node): they form one *class*. CIDRs cannot tell
apart two addresses in the same *atom* (the interval between consecutive CIDR/except
boundaries). A *source key* is a distinct (class, atom) pair: what an ingress rule can tell apart
about the other end. Sets of pods and of keys are Python ints used as bitsets.

`facts` reads what one pod contributes (it needs nothing from the other pods, so pieces of the
pod list can be read in parallel); `Classes.of` builds the classes from every pod's facts.
"""

from __future__ import annotations

import bisect
import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.kube import objects, pods
from paramedic.netpol import form, model

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Atom = tuple[int, int]
Facts = tuple[Any, str, dict[str, str], frozenset[str], bool, str | None, Atom | None, str | None]
"""(class key, namespace, projected labels, port names, hostNetwork, node IP, atom, the address
in the atom): plain values, cheap to send from a worker process."""


@dataclasses.dataclass(slots=True, kw_only=True)
class Class:
    index: int
    namespace: str
    labels: dict[str, str]
    """The pod's labels on the keys some selector reads (no selector reads any other)."""
    names: frozenset[str]
    host: bool
    node_ip: str | None
    members: int = 0
    pods: list[int] = dataclasses.field(default_factory=list)
    """The indexes of `members`."""
    keys: list[int] = dataclasses.field(default_factory=list)
    """The source keys of its pods."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Reader:
    """What reading one pod's facts needs: the program's label map, the label keys and port
    names selectors and rules mention, the CIDR boundaries, the flow's port and protocol."""

    program: form.Program
    semantics: model.Semantics
    keys: frozenset[str]
    names: frozenset[str]
    bounds: Mapping[int, list[int]]
    port: int
    protocol: str

    def facts(self, obj: Mapping[str, Any]) -> Facts:
        status = objects.status(obj)
        namespace = objects.namespace(obj) or "default"
        labels = objects.labels(obj)
        pod_ip = str(status.get("podIP") or "") or None
        node_ip = str(status.get("hostIP") or "") or None
        host = bool(objects.spec(obj).get("hostNetwork"))
        if self.program.pod_labels is not None and not host:
            labels = dict(self.program.labels_of(namespace, labels, obj))
        wire = node_ip if host else pod_ip
        matchable = (
            self.semantics.ipblock_matches_nodes if host else self.semantics.ipblock_matches_pods
        )
        number = _number(wire) if wire and matchable else None
        atom = None
        if number is not None:
            atom = (number[0], bisect.bisect_right(self.bounds[number[0]], number[1]))
        if host:
            return ("h", node_ip), namespace, {}, frozenset(), True, node_ip, atom, wire
        names = self._names_at_port(obj)
        projected = {k: v for k, v in labels.items() if k in self.keys}
        key = ("p", namespace, tuple(sorted(projected.items())), names)
        return key, namespace, projected, names, False, node_ip, atom, wire

    def _names_at_port(self, obj: Mapping[str, Any]) -> frozenset[str]:
        """The port names rules mention that resolve to the flow's port on this pod (as
        `services.container_port` resolves a name: its first port of the flow's protocol)."""
        if not self.names:
            return frozenset()
        first: dict[str, Any] = {}
        for c in pods.containers(obj):
            for cp in objects.as_list(c.get("ports")):
                if not isinstance(cp, dict):
                    continue
                name = cp.get("name")
                if not isinstance(name, str) or name not in self.names or name in first:
                    continue
                if name.isdecimal():  # a number, whatever the port says
                    first[name] = int(name)
                elif (cp.get("protocol") or "TCP") == self.protocol:
                    first[name] = cp.get("containerPort")
        return frozenset(
            n for n, port in first.items() if isinstance(port, int) and port == self.port
        )


def _number(text: str) -> tuple[int, int] | None:
    """(IP version, the address as an integer), or None for no address: dotted IPv4 read
    directly (the common case, where `ipaddress` is slow), anything else by `form.address`."""
    parts = text.split(".")
    if len(parts) == 4 and all(
        0 < len(p) <= 3 and p.isascii() and p.isdigit() and (p[0] != "0" or p == "0") for p in parts
    ):
        a, b, c, d = (int(p) for p in parts)
        if max(a, b, c, d) <= 255:
            return 4, a << 24 | b << 16 | c << 8 | d
    ip = form.address(text)
    return None if ip is None else (ip.version, int(ip))


class Classes:
    """Every pod's class, atom and source key; per class and per atom their pods and keys."""

    def __init__(self, every: Iterable[Facts]) -> None:
        self.classes: list[Class] = []
        self.atoms: dict[Atom, int] = {}
        """Pod bits per atom."""
        self.atom_ip: dict[Atom, IP] = {}
        """One address per atom: every address in it matches the same CIDRs."""
        self.class_of: list[int] = []
        self.atom_of: list[Atom | None] = []
        self.by_ns: dict[str, list[int]] = {}
        self.on_node: dict[str, int] = {}
        index: dict[Any, int] = {}
        for i, (key, namespace, labels, names, host, node_ip, atom, wire) in enumerate(every):
            bit = 1 << i
            if node_ip:
                self.on_node[node_ip] = self.on_node.get(node_ip, 0) | bit
            if atom is not None:
                if atom not in self.atoms:
                    ip = form.address(wire)
                    assert ip is not None, "an atom is only found for an address"
                    self.atom_ip[atom] = ip
                self.atoms[atom] = self.atoms.get(atom, 0) | bit
            self.atom_of.append(atom)
            k = index.get(key)
            if k is None:
                k = index[key] = len(self.classes)
                self.classes.append(
                    Class(
                        index=k, namespace=namespace, labels=labels, names=names, host=host,
                        node_ip=node_ip,
                    )
                )  # fmt: skip
                if not host:
                    self.by_ns.setdefault(namespace, []).append(k)
            self.classes[k].members |= bit
            self.classes[k].pods.append(i)
            self.class_of.append(k)
        self.n = len(self.class_of)
        self.all = (1 << self.n) - 1
        self._keys()

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
                self.classes[k].keys.append(s)
                if atom is not None:
                    self.keys_of_atom[atom] = self.keys_of_atom.get(atom, 0) | 1 << s
            self.key_of.append(s)
        self.kcount = len(index)
        self.kall = (1 << self.kcount) - 1

    def pods_of(self, chosen: Iterable[int]) -> int:
        """Pod bits of the classes `chosen`."""
        every = self.classes
        return from_indexes((i for k in chosen for i in every[k].pods), self.n)

    def keys_of(self, chosen: Iterable[int]) -> int:
        """Source-key bits of the classes `chosen`."""
        every = self.classes
        return from_indexes((s for k in chosen for s in every[k].keys), self.kcount)

    def named(self, names: Iterable[str]) -> dict[str, int]:
        """Pod bits of the classes defining each port name (resolving to the flow's port)."""
        return {name: union(c.members for c in self.classes if name in c.names) for name in names}


def from_indexes(indexes: Iterable[int], size: int) -> int:
    """The bitset with these bits set (below `size`): one pass over a byte buffer, where OR-ing
    one int per part would copy the whole growing bitset for each part."""
    buf = bytearray((size + 7) >> 3)
    for i in indexes:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


def union(values: Iterable[int]) -> int:
    """The OR of bitsets."""
    out = 0
    for v in values:
        out |= v
    return out


def referenced(program: form.Program, protocol: str) -> tuple[frozenset[str], frozenset[str]]:
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
    return frozenset(keys), frozenset(names)


def ip_bounds(program: form.Program) -> dict[int, list[int]]:
    """Sorted interval boundaries of every CIDR and except, per IP version."""
    bounds: dict[int, set[int]] = {4: set(), 6: set()}
    for term in program.terms():
        for block in term.networks():
            for net in (block.cidr, *block.excepts):
                bounds[net.version].add(int(net.network_address))
                bounds[net.version].add(int(net.broadcast_address) + 1)
    return {v: sorted(b) for v, b in bounds.items()}
