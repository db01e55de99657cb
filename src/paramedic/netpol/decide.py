"""Each class's decided other ends, both directions, for the all-pairs matrix (`fast`).

    egress   per source class selected by some egress policy: the destination pods allowed
    ingress  per destination class: the source keys admitted, grouped as
             {admitted source keys: the destination pods admitting exactly those}

`decide(spaces)` does it for the classes of some namespaces only (None: all), so worker
processes can take a share each; the caches (`selection` for pods and namespaces, `rulebits`
for terms and rules) fill with what that share needs.
"""

from __future__ import annotations

from collections.abc import Hashable

from paramedic.netpol import classes, cluster, form, model, rulebits, selection, walk


class Decider:
    def __init__(
        self, view: cluster.Cluster, program: form.Program, semantics: model.Semantics,
        found: classes.Classes, port: int, protocol: str, names: frozenset[str],
    ) -> None:  # fmt: skip
        self.program, self.semantics, self.found = program, semantics, found
        self.select = selection.Selection(view, found, names)
        self.bits = rulebits.RuleBits(self.select, port, protocol)

    def decide(self, spaces: frozenset[str] | None) -> tuple[dict[int, int], dict[int, int]]:
        """(egress per source class, ingress groups) for the pod-network classes in `spaces`."""
        return self._egress(spaces), self._ingress(spaces)

    def _selecting(
        self, which: model.Direction, spaces: frozenset[str] | None
    ) -> dict[Hashable, walk.Chosen]:
        """Per pod-network class in `spaces`: (tier index, policy) of every policy selecting it
        for `which`, in path order."""
        found: dict[Hashable, list[tuple[int, form.Policy]]] = {}
        for t, tier in enumerate(self.program.tiers):
            for policy in tier.policies:
                if which not in policy.directions:
                    continue
                where = policy.subject.namespace
                if spaces is not None and where is not None and where not in spaces:
                    continue
                for k in self.select.term_classes(policy.subject, spaces):
                    found.setdefault(k, []).append((t, policy))
        return dict(found)

    def _egress(self, spaces: frozenset[str] | None) -> dict[int, int]:
        subjects = self._selecting(model.Direction.EGRESS, spaces)
        allowed = walk.walk_all(
            self.program.tiers,
            subjects,
            model.Direction.EGRESS,
            self.found.all,
            self.bits.egress,
        )
        return {k: v for k, v in allowed.items() if isinstance(k, int)}

    def _ingress(self, spaces: frozenset[str] | None) -> dict[int, int]:
        found = self.found
        by_names: dict[frozenset[str], dict[Hashable, walk.Chosen]] = {}
        for k, chosen in self._selecting(model.Direction.INGRESS, spaces).items():
            assert isinstance(k, int)
            by_names.setdefault(found.classes[k].names, {})[k] = chosen
        decided: dict[Hashable, int] = {}
        for names, subjects in by_names.items():

            def bits(rule: form.Rule, names: frozenset[str] = names) -> int:
                return self.bits.ingress(rule, names)

            decided.update(
                walk.walk_all(
                    self.program.tiers, subjects, model.Direction.INGRESS, found.kall, bits
                )
            )
        groups: dict[int, int] = {}
        for namespace, members in found.by_ns.items():
            if spaces is not None and namespace not in spaces:
                continue
            for k in members:
                sources = decided.get(k, found.kall)
                groups[sources] = groups.get(sources, 0) | found.classes[k].members
        return groups
