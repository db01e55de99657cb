"""What evidence a check reads, typed: `Need(kind, scope)`, so that live gathering can be derived
from the checks a runbook runs instead of a hand-written fetch list.

A need is one of:
- objects of a Kubernetes kind in a scope: `Need("NetworkPolicy", Scope.NAMESPACES)`; a kind
  the gatherer does not know yet carries its API group/version (and plural when it is not the
  kind in lower case plus "s"): `Need("PodDisruptionBudget", Scope.NAMESPACES, api="policy/v1")`;
- logs of a side of the incident: `Need.logs(Scope.SOURCE)`;
- resource metrics (PodMetrics) of a side: `Need.metrics(Scope.TARGET)`;
- a probe result: `Need.probe("postgres")` (probes are run on request, never gathered silently).

Scopes say where: the objects resolving the incident finds (`INCIDENT`: the source's workload
and pods, the target Service, its endpoints and pods, their owners), the Secrets and ConfigMaps
their pod specs reference (`REFERENCED`), every object of the kind in the source and target
namespaces (`NAMESPACES`), cluster-wide (`CLUSTER`), and cluster DNS (`DNS`: kube-dns in
kube-system). Logs and metrics use `SOURCE`, `TARGET` and `DNS`.
"""

from __future__ import annotations

import dataclasses
import enum

LOGS = "logs"
METRICS = "metrics"
PROBE = "probe:"


class Scope(enum.StrEnum):
    INCIDENT = "incident"
    REFERENCED = "referenced"
    NAMESPACES = "namespaces"
    CLUSTER = "cluster"
    DNS = "dns"
    SOURCE = "source"
    TARGET = "target"


@dataclasses.dataclass(frozen=True, slots=True)
class Need:
    kind: str
    """A Kubernetes kind ('Pod'), or 'logs', 'metrics', 'probe:<kind>'."""
    scope: Scope = Scope.INCIDENT
    api: str = dataclasses.field(default="", kw_only=True)
    """group/version of a kind the gatherer does not know ('policy/v1'); '' for known kinds."""
    plural: str = dataclasses.field(default="", kw_only=True)
    """The resource name in API paths, when it is not lower(kind) + 's'."""

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("a need names a kind")
        object.__setattr__(self, "scope", Scope(self.scope))

    @classmethod
    def logs(cls, scope: Scope) -> Need:
        return cls(LOGS, scope)

    @classmethod
    def metrics(cls, scope: Scope) -> Need:
        return cls(METRICS, scope)

    @classmethod
    def probe(cls, kind: str) -> Need:
        return cls(PROBE + kind, Scope.INCIDENT)

    @property
    def is_object(self) -> bool:
        return self.kind not in (LOGS, METRICS) and not self.kind.startswith(PROBE)

    @property
    def resource(self) -> str:
        """The plural resource name in API paths ('horizontalpodautoscalers')."""
        return self.plural or self.kind.lower() + "s"

    def __str__(self) -> str:
        return f"{self.kind}@{self.scope}"
