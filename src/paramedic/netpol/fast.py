"""All-pairs connectivity for one (port, protocol): the compiled form over classes and bitsets.

Pods fall into classes (and their addresses into atoms) that no selector or CIDR can tell apart
(`classes`); every term of every rule selects a set of classes and/or atoms, computed once and
cached (`selection`); the tiers are walked per class over whole sets of other ends at once,
subjects sharing a prefix of selecting policies sharing its walk (`walk`):

    egress   per source class: allowed destination pods (bits over pods)
    ingress  per destination class: admitted *source keys* (distinct class x atom), then turned
             source-side: key s -> destinations admitting it (small sets listed, large ones as
             complements, so no 10,000 x 10,000 transpose)
    row(i) = E[c(i)] & admitted(key(i)) | own-node | self bit

On a big cluster, this process and one forked child share the work (`parallel.alongside`, only
where forking is safe: the fork start method, more than one CPU, no other thread): each reads
the facts of half the pods, then each decides the classes of half the namespaces (building only
the caches those need); this process joins the halves. Elsewhere one process does it all, with
the same answer.

The result must equal `explain` pair by pair; tests/netpol check that with hypothesis.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.evidence import parallel
from paramedic.netpol import classes, cluster, decide, layers, model

PARALLEL_MIN_PODS = 2_000
"""Below this many pods one process is faster than starting workers."""


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
        return rows_in(view, pod_objs, port, protocol, semantics, workers(len(pod_objs)) > 1)
    finally:
        if was_enabled:
            gc.enable()


def workers(pods: int) -> int:
    """How many processes compute a matrix over `pods` pods here."""
    if pods >= PARALLEL_MIN_PODS and parallel.available():
        return parallel.WORKERS
    return 1


def rows_in(
    view: cluster.Cluster,
    pod_objs: Sequence[Mapping[str, Any]],
    port: int,
    protocol: str,
    semantics: model.Semantics,
    fork: bool,
) -> list[int]:
    """`rows`, shared between worker processes (`fork`) or not; the same answer either way."""
    program = layers.program(view, semantics.cni)
    keys, names = classes.referenced(program, protocol)
    reader = classes.Reader(
        program=program, semantics=semantics, keys=keys, names=names,
        bounds=classes.ip_bounds(program), port=port, protocol=protocol,
    )  # fmt: skip
    if fork:
        size = -(-len(pod_objs) // parallel.WORKERS)
        slices = [(i, min(i + size, len(pod_objs))) for i in range(0, len(pod_objs), size)]
        parts = parallel.alongside(_facts_in_worker, (reader, pod_objs), slices)
        facts = [f for part in parts for f in part]
    else:
        facts = [reader.facts(obj) for obj in pod_objs]
    found = classes.Classes(facts)
    engine = decide.Decider(view, program, semantics, found, port, protocol, names)
    if fork:
        decided = parallel.alongside(_decide_in_worker, engine, _halves(found))
    else:
        decided = [engine.decide(None)]
    egress: dict[int, int] = {}
    groups: dict[int, int] = {}
    for part_egress, part_groups in decided:
        egress.update(part_egress)
        for sources, dst in part_groups.items():
            groups[sources] = groups.get(sources, 0) | dst
    for c in found.classes:
        if c.host:  # never selected for ingress: every source key may reach it
            groups[found.kall] = groups.get(found.kall, 0) | c.members
    return _assemble(found, semantics, egress, _transpose(found, semantics, groups))


def _facts_in_worker(
    shared: tuple[classes.Reader, Sequence[Mapping[str, Any]]], piece: tuple[int, int]
) -> list[classes.Facts]:
    reader, pod_objs = shared
    return [reader.facts(pod_objs[i]) for i in range(*piece)]


def _decide_in_worker(
    engine: decide.Decider, spaces: frozenset[str]
) -> tuple[dict[int, int], dict[int, int]]:
    return engine.decide(spaces)


def _halves(found: classes.Classes) -> list[frozenset[str]]:
    """The namespaces in `parallel.WORKERS` parts with about as many classes each."""
    parts: list[list[str]] = [[] for _ in range(parallel.WORKERS)]
    load = [0] * parallel.WORKERS
    for namespace, members in sorted(found.by_ns.items(), key=lambda item: -len(item[1])):
        lightest = load.index(min(load))
        parts[lightest].append(namespace)
        load[lightest] += len(members)
    return [frozenset(p) for p in parts]


def _assemble(
    found: classes.Classes, semantics: model.Semantics, egress: dict[int, int], admitted: list[int]
) -> list[int]:
    out: list[int] = []
    for i, (k, s) in enumerate(zip(found.class_of, found.key_of, strict=True)):
        row = egress.get(k, found.all) & admitted[s]
        if semantics.self_always_allowed:
            row |= 1 << i
        out.append(row)
    return out


def _transpose(
    found: classes.Classes, semantics: model.Semantics, groups: dict[int, int]
) -> list[int]:
    """{source keys: destination pods} -> per source key, the destinations admitting it.

    Each key first gets a small bitset over the groups: the narrow groups it is in, the wide
    ones it is not in (so the work is the smaller side of each group); keys with the same
    membership (a few hundred patterns among thousands of keys) share one union of destinations.
    """
    kcount = found.kcount
    inside = [0] * kcount
    outside = [0] * kcount
    destinations = list(groups.values())
    wide = 0
    for g, sources in enumerate(groups):
        bit = 1 << g
        if sources.bit_count() * 2 <= kcount:
            for s in _bits(sources):
                inside[s] |= bit
        else:
            wide |= bit
            for s in _bits(found.kall & ~sources):
                outside[s] |= bit
    memo: dict[tuple[int, int], int] = {}
    out = []
    for member, non in zip(inside, outside, strict=True):
        row = memo.get((member, non))
        if row is None:
            row = memo[(member, non)] = classes.union(
                destinations[g] for g in _bits(member | wide & ~non)
            )
        out.append(row)
    if semantics.node_to_pod_allowed:
        for s, k in enumerate(found.key_class):
            c = found.classes[k]
            if c.host and c.node_ip:
                out[s] |= found.on_node.get(c.node_ip, 0)
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
