"""What evidence a check reads, typed: `Need(kind, scope)`, so that live gathering can be derived
from the checks a runbook runs instead of a hand-written fetch list.

A need is one of:
- objects of a Kubernetes kind in a scope: `Need("NetworkPolicy", Scope.NAMESPACES)`; a kind
  the gatherer does not know yet carries its API group/version (and plural when it is not the
  kind in lower case plus "s"): `Need("PodDisruptionBudget", Scope.NAMESPACES, api="policy/v1")`;
- logs of a side of the incident: `Need.logs(Scope.SOURCE)`;
- resource metrics (PodMetrics) of a side: `Need.metrics(Scope.TARGET)`;
- a probe result: `Need.probe("postgres")` (probes are run on request, never gathered silently).

A need is required unless marked `optional`: without it (absent, or hidden by a gap) the check
can not rule its cause out, and says inconclusive with the command that gets it.

Scopes say where: the objects resolving the incident finds (`INCIDENT`: the source's workload
and pods, the target Service, its endpoints and pods, their owners), the Secrets and ConfigMaps
their pod specs reference (`REFERENCED`), every object of the kind in the source and target
namespaces (`NAMESPACES`), cluster-wide (`CLUSTER`), cluster DNS (`DNS`: kube-dns in
kube-system), where CNIs run their agents and keep their configuration (`CNI`:
`CNI_NAMESPACES`), and where the service mesh keeps its config (`MESH`: istio-system). Logs and
metrics use `SOURCE`, `TARGET` and `DNS`. `namespaces` says, once for gathering and for the
verdict rule, which namespaces a scope means for one incident.
"""

from __future__ import annotations

import dataclasses
import enum

LOGS = "logs"
METRICS = "metrics"
PROBE = "probe:"
DNS_NAMESPACE = "kube-system"
CNI_NAMESPACES = ("kube-system", "calico-system", "kube-flannel")
"""Where Calico and Cilium run their agent DaemonSet and keep their ConfigMap: kube-system for
Calico's manifest install and Cilium's Helm chart and CLI (their default namespace); calico-system
for Calico installed by its operator (tigera-operator creates it for calico-node, Typha and
kube-controllers, and runs itself in the tigera-operator namespace); kube-flannel for Flannel's
own manifest (kube-flannel-ds and kube-flannel-cfg; older manifests used kube-system)."""
MESH_NAMESPACE = "istio-system"
"""Where Istio keeps its mesh config (the `istio` ConfigMap: trust domain, root namespace):
istioctl's and the Helm charts' default namespace."""


class Scope(enum.StrEnum):
    INCIDENT = "incident"
    REFERENCED = "referenced"
    NAMESPACES = "namespaces"
    CLUSTER = "cluster"
    DNS = "dns"
    CNI = "cni"
    MESH = "mesh"
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
    optional: bool = dataclasses.field(default=False, kw_only=True)
    """The check decides without it (it only adds detail or a fix); a need that is not optional
    must be present for the check to rule its cause out (checks.verdicts)."""
    instead: tuple[Need, ...] = dataclasses.field(default=(), kw_only=True)
    """Other evidence that stands in for this one (client logs or a postgres probe)."""
    discover: bool = dataclasses.field(default=False, kw_only=True)
    """An API the cluster may not serve (a CRD: admin policies, another CNI's or a mesh's
    policies): listed only when the one discovery request (/apis) shows its group/version; not
    served means no such object exists (no gap)."""
    superseded_by: str = dataclasses.field(default="", kw_only=True)
    """A group/version that serves the same objects: when discovery shows it served, this
    `discover` need is not listed (Calico's crd.projectcalico.org/v1 CRDs store what
    projectcalico.org/v3 serves: reading both would count every policy twice)."""

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("a need names a kind")
        object.__setattr__(self, "scope", Scope(self.scope))

    @classmethod
    def logs(cls, scope: Scope, *, optional: bool = False, instead: tuple[Need, ...] = ()) -> Need:
        return cls(LOGS, scope, optional=optional, instead=instead)

    @classmethod
    def metrics(cls, scope: Scope, *, optional: bool = False) -> Need:
        return cls(METRICS, scope, optional=optional)

    @classmethod
    def probe(cls, kind: str) -> Need:
        """Probes run only when asked for (--probe-pod, --db-probe): always optional."""
        return cls(PROBE + kind, Scope.INCIDENT, optional=True)

    @property
    def is_object(self) -> bool:
        return self.kind not in (LOGS, METRICS) and not self.kind.startswith(PROBE)

    @property
    def group(self) -> str:
        """The API group of `api` ('' for the core group or a need without `api`)."""
        return self.api.rpartition("/")[0]

    @property
    def key(self) -> str:
        """What the need reads, as Kubernetes writes a group and kind: the kind qualified by
        the API group its need names ('NetworkPolicy.projectcalico.org'), the bare kind
        otherwise. Two kinds of one name in different groups never meet under one key: in the
        gather plan, in gaps, in the commands that fetch them."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def resource(self) -> str:
        """The plural resource name in API paths ('horizontalpodautoscalers')."""
        return self.plural or self.kind.lower() + "s"

    def __str__(self) -> str:
        return f"{self.kind}@{self.scope}"


def namespaces(
    scope: Scope, source_namespace: str, target_namespace: str | None
) -> frozenset[str] | None:
    """The namespaces a need of `scope` covers for one incident; None means cluster-wide.
    INCIDENT and REFERENCED mean the source's and the target's namespaces (the objects
    resolution finds there, or, for a kind resolution does not fetch, every object of it)."""
    target = target_namespace or source_namespace
    where: dict[Scope, frozenset[str] | None] = {
        Scope.CLUSTER: None,
        Scope.DNS: frozenset({DNS_NAMESPACE}),
        Scope.CNI: frozenset(CNI_NAMESPACES),
        Scope.MESH: frozenset({MESH_NAMESPACE}),
        Scope.SOURCE: frozenset({source_namespace}),
        Scope.TARGET: frozenset({target}),
    }
    return where.get(scope, frozenset({source_namespace, target}))
