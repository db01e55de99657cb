"""Blast radius: every flow a change newly allows (or closes), from the matrix before and after.

A rule with a named port admits every number that name has on any pod, so every such number is
diffed, not only the one asked about. Flows to or from an address outside the pod network are
not in the pod matrix; they are checked one by one against every pod.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, explain, matching, matrix, model, peers


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    src: str
    dst: str
    port: int
    protocol: str

    def describe(self) -> str:
        return f"{self.src} -> {self.dst} {self.protocol}/{self.port}"

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "port": self.port, "protocol": self.protocol}


def diff(
    before: evidence_model.Evidence,
    after: evidence_model.Evidence,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    port_value: int | str,
    semantics: model.Semantics = model.DEFAULT,
) -> tuple[tuple[Flow, ...], tuple[Flow, ...]]:
    """(newly allowed, newly denied) flows, before vs after, on every port the rule admits."""
    numbers = {port} | _numbers_of(after, port_value, protocol)
    opened: list[Flow] = []
    closed: list[Flow] = []
    for number in sorted(numbers):
        old = matrix.matrix(before, number, protocol, semantics)
        new = matrix.matrix(after, number, protocol, semantics)
        for i, (a, b) in enumerate(zip(old.rows, new.rows, strict=True)):
            for j in matrix.bits(b & ~a):
                opened.append(
                    Flow(src=old.pods[i], dst=old.pods[j], port=number, protocol=protocol)
                )
            for j in matrix.bits(a & ~b):
                closed.append(
                    Flow(src=old.pods[i], dst=old.pods[j], port=number, protocol=protocol)
                )
        if src.kind == "ip" or dst.kind == "ip":
            opened.extend(_address_flows(before, after, src, dst, number, protocol, semantics))
    return tuple(opened), tuple(closed)


def _numbers_of(
    evidence: evidence_model.Evidence, port_value: int | str, protocol: str
) -> set[int]:
    """Every number a named port has on any pod (a rule with a name admits all of them)."""
    if isinstance(port_value, int):
        return set()
    found = set()
    for pod in evidence.kind("Pod"):
        number = matching.named_port(peers.Peer.pod(pod), port_value, protocol)
        if number is not None:
            found.add(number)
    return found


def _address_flows(
    before: evidence_model.Evidence,
    after: evidence_model.Evidence,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    semantics: model.Semantics,
) -> list[Flow]:
    found = []
    others = [peers.Peer.pod(p) for p in matrix.ordered_pods(before)]
    pairs = [(src, o) for o in others] if src.kind == "ip" else [(o, dst) for o in others]
    if src.kind == "ip" and dst.kind == "ip":
        pairs = [(src, dst)]
    for a, b in pairs:
        was = explain.flow(cluster.of(before), a, b, port, protocol, semantics).allowed
        now = explain.flow(cluster.of(after), a, b, port, protocol, semantics).allowed
        if now and not was:
            found.append(Flow(src=a.ref, dst=b.ref, port=port, protocol=protocol))
    return found
