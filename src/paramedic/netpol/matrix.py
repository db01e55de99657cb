"""The all-pairs public API: which pod may open a connection to which pod on one port.

    matrix(evidence, port, protocol="TCP", semantics=DEFAULT) -> Matrix(pods, rows)

`pods` are 'ns/name' refs sorted by namespace then name; `rows[i]` is a bitset (a Python int):
bit j set means pods[i] may reach pods[j]. `oracle_matrix` computes the same thing pair by pair
with the explaining evaluator; it exists to test (and benchmark) the fast engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from paramedic import errors
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects
from paramedic.netpol import cluster, explain, fast, model, peers


class Matrix(NamedTuple):
    pods: tuple[str, ...]
    rows: tuple[int, ...]

    def allowed(self, i: int, j: int) -> bool:
        return bool(self.rows[i] >> j & 1)

    def pairs(self) -> Iterator[tuple[int, int]]:
        """Every allowed (i, j)."""
        for i, row in enumerate(self.rows):
            for j in bits(row):
                yield i, j

    def allowed_count(self) -> int:
        return sum(row.bit_count() for row in self.rows)


def bits(row: int) -> Iterator[int]:
    """The indexes of the set bits of a row, lowest first."""
    while row:
        low = row & -row
        yield low.bit_length() - 1
        row ^= low


def ordered_pods(evidence: evidence_model.Evidence) -> list[Mapping[str, Any]]:
    return sorted(evidence.kind("Pod"), key=lambda p: (objects.namespace(p), objects.name(p)))


def matrix(
    evidence: evidence_model.Evidence,
    port: int,
    protocol: str = "TCP",
    semantics: model.Semantics = model.DEFAULT,
) -> Matrix:
    """All pod pairs on (port, protocol), by the fast engine (the last few answers are cached)."""
    port, protocol = _check(port, protocol)
    for (cached, key), answer in _CACHE:
        if cached is evidence and key == (port, protocol, semantics):
            return answer
    pod_objs = ordered_pods(evidence)
    rows = fast.rows(cluster.of(evidence), pod_objs, port, protocol, semantics)
    answer = Matrix(pods=_refs(pod_objs), rows=tuple(rows))
    _CACHE.insert(0, ((evidence, (port, protocol, semantics)), answer))
    del _CACHE[_CACHE_SIZE:]
    return answer


_CACHE: list[tuple[tuple[evidence_model.Evidence, tuple[int, str, model.Semantics]], Matrix]] = []
_CACHE_SIZE = 4


def clear_cache() -> None:
    """Forget cached matrices (benchmarks measure the engine, not the cache)."""
    _CACHE.clear()


def oracle_matrix(
    evidence: evidence_model.Evidence,
    port: int,
    protocol: str = "TCP",
    semantics: model.Semantics = model.DEFAULT,
    sources: Sequence[int] | None = None,
) -> Matrix:
    """The same answer, one pair at a time (only the rows in `sources`, when given)."""
    port, protocol = _check(port, protocol)
    pod_objs = ordered_pods(evidence)
    view = cluster.of(evidence)
    all_peers = [peers.Peer.pod(p) for p in pod_objs]
    wanted = range(len(all_peers)) if sources is None else sources
    rows = [0] * len(all_peers)
    for i in wanted:
        row = 0
        for j, dst in enumerate(all_peers):
            if explain.flow(view, all_peers[i], dst, port, protocol, semantics).allowed:
                row |= 1 << j
        rows[i] = row
    return Matrix(pods=_refs(pod_objs), rows=tuple(rows))


def _refs(pod_objs: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(f"{objects.namespace(p) or 'default'}/{objects.name(p)}" for p in pod_objs)


def _check(port: int, protocol: str) -> tuple[int, str]:
    value = (protocol or "TCP").upper()
    if value not in model.PROTOCOLS:
        raise errors.InputError(f"protocol {protocol!r}: expected TCP, UDP or SCTP")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535:
        raise errors.InputError(f"matrix port must be a number 1-65535, not {port!r}")
    return port, value
