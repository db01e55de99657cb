"""Which items of a big kubectl List one diagnosis reads, told from their text before parsing.

A 478 MB `kubectl get -A -o yaml` dump holds a whole cluster, nine tenths of it Pods, and
`paramedic diagnose` reads the Pods of a few namespaces: the source's and the target's,
kube-system (cluster DNS) and default. A `Selection` says which: items of the `LOCAL` kinds
(read only in the incident's namespaces) in any other namespace are left out; every other
kind is kept everywhere, because some check reads it cluster-wide (the clients of a database
in any namespace, Services of the same name, the CNI's DaemonSet and ConfigMaps, Events).
Pods are kept everywhere too when the dump holds a cluster-wide policy (an
AdminNetworkPolicy, a Calico GlobalNetworkPolicy...), whose fix's blast radius spans the
cluster.

An item's kind and namespace are read from its text: kubectl prints each item from column 0
(`- `), its keys two columns in and its metadata's keys four. An item is left out only when
both `kind: K` and metadata's `namespace: N` are plain on their lines; anything else (no
kind line, a quoted or odd namespace, a cluster-scoped object) is kept and parsed as before.
Used only for the items of a List of `yaml_list.PARALLEL_BYTES` or more (docs/BUNDLE.md: an
item left out is never parsed, so an error inside it is not reported).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator

from paramedic.evidence import needs as needs_model

ALWAYS = frozenset({"kube-system", "default"})
"""Namespaces every diagnosis reads: cluster DNS, and the `kubernetes` Service behind every
pod's service variables."""
LOCAL = frozenset({"Pod", "ReplicaSet", "Endpoints", "EndpointSlice", "Secret"})
"""Kinds no check reads outside the incident's namespaces (tests/evidence/
test_selective_load.py checks it on every demo with a copy of each object elsewhere)."""

CALICO_GLOBAL = frozenset({"GlobalNetworkPolicy", "StagedGlobalNetworkPolicy"})
"""Calico's cluster-wide policies (read by the network-policy check through its Calico view,
not through a need): like the cluster-wide policies the needs list, they widen a Selection."""

_KIND = re.compile(rb"\n(?:- |  )kind: ([A-Za-z][A-Za-z0-9]*)\r?\n")
_METADATA = re.compile(rb"\n(?:- |  )metadata:\r?\n")
_NAMESPACE = re.compile(rb"\n    namespace: ([a-z0-9][-a-z0-9]*)\r?\n")
_SHALLOW = re.compile(rb"\n {0,3}[^ \r\n]")
"""A line indented less than metadata's keys: the end of the metadata block."""


@dataclasses.dataclass(frozen=True, slots=True)
class Selection:
    """Items of `LOCAL` kinds are read in `namespaces` only; Pods everywhere as soon as the
    dump holds an item of a `widening` kind."""

    namespaces: frozenset[str]
    widening: frozenset[str] = frozenset()

    @classmethod
    def of(cls, needs: Iterable[needs_model.Need], namespaces: Iterable[str]) -> Selection:
        """What a diagnosis with these needs reads, the incident being in `namespaces`: the
        policy kinds its needs list cluster-wide widen it."""
        widening = {
            n.kind
            for n in needs
            if n.is_object and n.discover and n.scope is needs_model.Scope.CLUSTER
        }
        return cls(frozenset({*namespaces, *ALWAYS}), frozenset({*widening, *CALICO_GLOBAL}))

    def runs(self, data: bytes, pos: int, stop: int) -> tuple[list[tuple[int, int]], list[int]]:
        """(start, end) of the runs of kept items in `data[pos:stop]` (the items, from the first
        one's `- ` line), each run as long as the kept items next to each other; and the number
        of each kept item in the List (0 for the first item), for messages naming it."""
        heads = [(start, end, *_head(data, start, end)) for start, end in _items(data, pos, stop)]
        local = LOCAL
        if any(kind in self.widening for _, _, kind, _ in heads):
            local = LOCAL - {"Pod"}
        runs: list[tuple[int, int]] = []
        numbers: list[int] = []
        for number, (start, end, kind, namespace) in enumerate(heads):
            if kind in local and namespace is not None and namespace not in self.namespaces:
                continue
            numbers.append(number)
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], end)
            else:
                runs.append((start, end))
        return runs, numbers


def _head(data: bytes, start: int, end: int) -> tuple[str | None, str | None]:
    """The kind and the metadata namespace of the item `data[start:end]` as its text plainly
    says them; None where it does not (a namespace only for the `LOCAL` kinds)."""
    found = _KIND.search(data, start - 1, end)
    kind = found.group(1).decode() if found else None
    if kind not in LOCAL:
        return kind, None
    meta = _METADATA.search(data, start - 1, end)
    if meta is None:
        return kind, None
    space = _NAMESPACE.search(data, meta.end() - 1, end)
    if space is None or _SHALLOW.search(data, meta.end() - 1, space.start() + 1):
        return kind, None  # no namespace line in metadata: not one to leave out
    return kind, space.group(1).decode()


def _items(data: bytes, pos: int, stop: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each item in `data[pos:stop]`, which starts at an item's `- ` line."""
    while pos < stop:
        cut = data.find(b"\n- ", pos, stop)
        end = stop if cut < 0 else cut + 1
        yield pos, end
        pos = end
