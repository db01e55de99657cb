"""Hubble's recorded drops as direct evidence for the `network-policy` check.

A DROPPED flow with a policy drop reason (evidence.hubble) between a judged source pod and target
pod, on the judged protocol and pod port, is what the data path actually did. It must agree
with the engine: where the engine denies the flow, the drop is cited next to the deciding
policy; where the engine allows it, the evidence is incomplete (a policy missing from the
bundle, a CNI behaviour not modelled, or drops older than the policies): said so, never
ruled out. Endpoints match by namespace and pod name, or by address when Hubble has no name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from paramedic.checks import model
from paramedic.evidence import hubble
from paramedic.evidence import model as evidence_model

LIMIT = 3
"""Drops cited per finding."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    agreeing: tuple[hubble.Flow, ...] = ()
    """Policy drops of flows the engine denies."""
    disagreeing: tuple[hubble.Flow, ...] = ()
    """Policy drops of flows the engine allows."""

    def cites(self) -> tuple[model.Cite, ...]:
        found = [
            model.Cite(text=f"{f.describe()}: agrees with the policies", source=f.where)
            for f in self.agreeing[:LIMIT]
        ]
        found += [self.disagreement()] if self.disagreeing else []
        return tuple(found)

    def disagreement(self) -> model.Cite:
        first = self.disagreeing[0]
        more = len(self.disagreeing) - 1
        return model.Cite(
            text=f"{first.describe()}, but the policies in the evidence allow this flow"
            + (f" (and {more} more such drop{'s' if more != 1 else ''})" if more else "")
            + ": the evidence is incomplete (a policy missing from the bundle, or drops older "
            "than the policies)",
            source=first.where,
        )


def compare(evidence: evidence_model.Evidence, results: Sequence[Any]) -> Recorded:
    """Each policy drop matched to a judged flow (source peer, target peer, port, result)."""
    drops = [f for f in evidence.flows if f.policy_drop]
    if not drops:
        return Recorded()
    agreeing: list[hubble.Flow] = []
    disagreeing: list[hubble.Flow] = []
    for drop in drops:
        for src, dst, port, result in results:
            if _same(drop.source, src) and _same(drop.destination, dst) and _on(drop, port, result):
                (disagreeing if result.allowed else agreeing).append(drop)
                break
    return Recorded(agreeing=tuple(agreeing), disagreeing=tuple(disagreeing))


def _same(endpoint: hubble.Endpoint, peer: Any) -> bool:
    is_pod = peer.kind == "pod" and peer.obj is not None and peer.obj.get("kind") == "Pod"
    if is_pod and endpoint.pod:
        return bool(endpoint.pod == peer.name and endpoint.namespace == peer.namespace)
    return bool(endpoint.ip) and endpoint.ip == (peer.network_ip or "")


def _on(drop: hubble.Flow, port: int, result: Any) -> bool:
    return drop.port == port and drop.protocol == str(result.protocol)
