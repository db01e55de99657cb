"""Which classes (and their pods and source keys) each pod and namespace predicate selects.

Every answer is cached: a pod predicate per (predicate, namespace), a namespace predicate once.
A pod predicate reads only its own label keys, so it is evaluated once per distinct *projection*
of a class's labels onto those keys (a *cell*: e.g. one per `app` value in a namespace, one for a
whole namespace when the predicate reads namespace labels) and the verdict (kept by the number
of that projection) is shared by every class and namespace with it. A namespace predicate is
likewise evaluated once per projection of namespace labels; both narrow their candidates first
by an index on a label the predicate requires. Terms and rules are `rulebits`' job.
"""

from __future__ import annotations

from collections.abc import Iterable

from paramedic.netpol import classes, cluster, form

Cell = tuple[tuple[str | None, ...], list[int], int]
"""Label values on a key set (None where absent), the classes having them, and the number of
those values among every distinct value tuple on the key set (where verdicts are kept)."""
Index = dict[str, list[Cell]]
Groups = list[tuple[tuple[str | None, ...], list[str]]]
"""Namespaces by their label values on a key set."""


class Selection:
    def __init__(self, view: cluster.Cluster, found: classes.Classes, names: Iterable[str]) -> None:
        self.view, self.found = view, found
        self.named_bits = found.named(names)
        self._cells: dict[tuple[tuple[str, ...], str | None], list[Cell]] = {}
        self._ids: dict[tuple[str, ...], dict[tuple[str | None, ...], int]] = {}
        """Per key set: the number of each distinct value tuple (cells of any scope share it)."""
        self._indexes: dict[tuple[tuple[str, ...], str, str | None], Index] = {}
        self._verdicts: dict[str, dict[int, bool]] = {}
        """Per predicate: per value number of its key set, whether it matches."""
        self._sorted: dict[str, tuple[str, ...]] = {}
        self._sel_cache: dict[tuple[str, str | None], list[int]] = {}
        self._match_cache: dict[tuple[str, str | None], list[Cell]] = {}
        self._bits_cache: dict[tuple[str, str | None, int], int] = {}
        self._cell_bits: dict[tuple[int, int], int] = {}
        self._ns_cache: dict[str, list[str]] = {}
        self._spaces: dict[frozenset[str], list[str]] = {}
        self._ns_groups: dict[tuple[str, ...], Groups] = {}
        self._ns_indexes: dict[tuple[tuple[str, ...], str], dict[str, Groups]] = {}

    # --- pods and namespaces ---------------------------------------------------------------------

    def select(self, pods: form.LabelMatch | None, namespace: str | None) -> list[int]:
        """Classes in `namespace` (None: in any) that a pod predicate (None: every pod) matches."""
        key = ("-" if pods is None else pods.key, namespace)
        cached = self._sel_cache.get(key)
        if cached is None:
            cached = [k for cell in self._matching(pods, namespace) for k in cell[1]]
            self._sel_cache[key] = cached
        return cached

    def select_bits(self, pods: form.LabelMatch | None, namespace: str | None, side: int) -> int:
        """Pod bits (side 0) or source-key bits (side 1) of `select`."""
        key = ("-" if pods is None else pods.key, namespace, side)
        cached = self._bits_cache.get(key)
        if cached is None:
            found = self.found
            cached = 0
            for _, members, _ in self._matching(pods, namespace):
                cell = self._cell_bits.get((id(members), side))
                if cell is None:
                    cell = found.pods_of(members) if side == 0 else found.keys_of(members)
                    self._cell_bits[(id(members), side)] = cell
                cached |= cell
            self._bits_cache[key] = cached
        return cached

    def _matching(self, pods: form.LabelMatch | None, namespace: str | None) -> list[Cell]:
        """The cells in `namespace` (None: in any) whose classes `pods` matches."""
        key = "-" if pods is None else pods.key
        cached = self._match_cache.get((key, namespace))
        if cached is not None:
            return cached
        if pods is None:
            cached = self._cells_in((), namespace)
        else:
            keys = self._sorted.get(key)
            if keys is None:
                keys = self._sorted[key] = tuple(sorted(pods.keys))
            candidates = self._cells_in(keys, namespace)
            for k, v in pods.required.items():  # narrow by the index first
                narrowed = self._index(keys, k, namespace).get(v, [])
                if len(narrowed) < len(candidates):
                    candidates = narrowed
            verdicts = self._verdicts.get(key)
            if verdicts is None:
                verdicts = self._verdicts[key] = {}
            cached = []
            for cell in candidates:
                verdict = verdicts.get(cell[2])
                if verdict is None:
                    labels = {k: v for k, v in zip(keys, cell[0], strict=True) if v is not None}
                    verdict = verdicts[cell[2]] = pods.matches(labels)
                if verdict:
                    cached.append(cell)
        self._match_cache[(key, namespace)] = cached
        return cached

    def _cells_in(self, keys: tuple[str, ...], namespace: str | None) -> list[Cell]:
        """The cells on a key set in a namespace (None: across all of them), built on first need
        (a worker deciding some namespaces builds only theirs)."""
        found = self._cells.get((keys, namespace))
        if found is None:
            every = self.found.classes
            spaces = self.found.by_ns
            ids = self._ids.setdefault(keys, {})
            groups: dict[tuple[str | None, ...], list[int]] = {}
            for members in spaces.values() if namespace is None else (spaces.get(namespace, ()),):
                for k in members:
                    labels = every[k].labels
                    groups.setdefault(tuple([labels.get(x) for x in keys]), []).append(k)
            found = self._cells[(keys, namespace)] = [
                (values, group, ids.setdefault(values, len(ids)))
                for values, group in groups.items()
            ]
        return found

    def _index(self, keys: tuple[str, ...], label: str, namespace: str | None) -> Index:
        """Per value: the cells on `keys` in `namespace` (None: in any) whose `label` has it."""
        index = self._indexes.get((keys, label, namespace))
        if index is None:
            index = self._indexes[(keys, label, namespace)] = {}
            at = keys.index(label)
            for cell in self._cells_in(keys, namespace):
                value = cell[0][at]
                if value is not None:
                    index.setdefault(value, []).append(cell)
        return index

    def namespaces(self, match: form.LabelMatch) -> list[str]:
        """The namespaces whose labels `match` matches: evaluated once per distinct projection
        of namespace labels onto the keys it reads."""
        cached = self._ns_cache.get(match.key)
        if cached is None:
            keys = tuple(sorted(match.keys))
            groups = self._ns_groups_on(keys)
            for k, v in match.required.items():  # narrow by the index first
                narrowed = self._ns_index(keys, k).get(v, [])
                if len(narrowed) < len(groups):
                    groups = narrowed
            cached = []
            for values, spaces in groups:
                labels = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
                if match.matches(labels):
                    cached += spaces
            self._ns_cache[match.key] = cached
        return cached

    def _ns_groups_on(self, keys: tuple[str, ...]) -> Groups:
        """The namespaces holding pods, by their label values on `keys`."""
        groups = self._ns_groups.get(keys)
        if groups is None:
            found: dict[tuple[str | None, ...], list[str]] = {}
            for ns in self.found.by_ns:
                labels = self.view.namespace_labels(ns)
                found.setdefault(tuple([labels.get(k) for k in keys]), []).append(ns)
            groups = self._ns_groups[keys] = list(found.items())
        return groups

    def _ns_index(self, keys: tuple[str, ...], label: str) -> dict[str, Groups]:
        """Per value of `label`: the groups on `keys` having it."""
        index = self._ns_indexes.get((keys, label))
        if index is None:
            index = self._ns_indexes[(keys, label)] = {}
            at = keys.index(label)
            for group in self._ns_groups_on(keys):
                value = group[0][at]
                if value is not None:
                    index.setdefault(value, []).append(group)
        return index

    def term_classes(self, term: form.Term, spaces: frozenset[str] | None = None) -> list[int]:
        """The pod-network classes a term's pod parts select (only those in `spaces`, if given:
        then a predicate is evaluated only there)."""
        scopes = self.scopes(term)
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

    def scopes(self, term: form.Term) -> list[str | None]:
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
