"""The immutable `Evidence` value that every check receives, and its object index.

Kubernetes objects stay the plain dicts the API returns. The index only groups them by kind
and (namespace, name) so that checks can look things up without scanning everything.
Gathering problems are kept as `gaps`, each a `Gap(kind, namespace, reason)` ("NetworkPolicy",
"data", "cannot list networkpolicies in data: forbidden"), so a check can say *inconclusive*
and name what is missing instead of guessing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.evidence import hubble, probes_file

KubeObject = dict[str, Any]
LogKey = tuple[str, str, str]  # (namespace, pod, container)


@dataclasses.dataclass(frozen=True, slots=True)
class Gap:
    """What could not be gathered: the kind ('NetworkPolicy', 'logs', 'metrics', 'probe:tcp'; ''
    when not about one kind), its namespace ('' for cluster-wide or not known) and the reason as
    people read it ("cannot list networkpolicies in data: forbidden (for user alice)").

    In a bundle's gaps.txt a gap is one line, `[Kind namespace] reason` (`[Kind] reason` when
    cluster-wide, the bare reason when not about one kind); `parse` reads both, so older bundles
    that hold bare lines still load."""

    kind: str
    namespace: str
    reason: str

    def __str__(self) -> str:
        return self.reason

    def line(self) -> str:
        """The gaps.txt line."""
        if not self.kind:
            return self.reason
        where = f" {self.namespace}" if self.namespace else ""
        return f"[{self.kind}{where}] {self.reason}"

    @classmethod
    def parse(cls, line: str) -> Gap:
        m = _GAP_LINE.match(line.strip())
        if m is None:
            return cls("", "", line.strip())
        return cls(m["kind"], m["namespace"] or "", m["reason"])

    def about(self, kind: str, namespaces: Iterable[str] | None = None) -> bool:
        """Whether this gap hides evidence of `kind` (in one of `namespaces`, when given)."""
        if self.kind != kind:
            return False
        return namespaces is None or not self.namespace or self.namespace in set(namespaces)


_GAP_LINE = re.compile(
    r"^\[(?P<kind>[A-Za-z][\w:.-]*)(?: (?P<namespace>[a-z0-9.-]+))?\] (?P<reason>.+)$"
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """What is being diagnosed, as the user wrote it (resolution happens in kube.resolve)."""

    source: str
    target: str
    port: int | str | None = None
    namespace: str | None = None
    runbook: str = "db-connectivity"
    title: str = ""
    """What people call the incident (incident.yaml's `title`); reports name it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "port": self.port,
            "namespace": self.namespace,
        }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CloudDocument:
    """One cloud CLI response of a bundle's cloud/<provider>/ folder (DESIGN.md §2), its items
    kept as the provider printed them; `evidence.cloud_files` recognises the shape."""

    provider: str
    """'aws', 'gcp' or 'azure'."""
    kind: str
    """What the response lists, by its provider's name: aws 'SecurityGroups', 'NetworkInterfaces',
    'NetworkAcls', 'Reservations', 'DBInstances', 'PrefixListEntries', 'NatGateways'; gcp
    'compute#firewall', 'compute#instance'; azure 'networkSecurityGroups', 'networkInterfaces',
    'virtualNetworks'."""
    source: str
    """The file, as evidence lines cite it: 'cloud/aws/security-groups.json'."""
    items: tuple[dict[str, Any], ...]
    key: str = ""
    """What the items belong to when the response does not say (a prefix list's id, from the
    file name of `aws ec2 get-managed-prefix-list-entries` output)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectIndex:
    """Objects grouped by kind, and by (kind, namespace, name)."""

    by_kind: Mapping[str, tuple[KubeObject, ...]]
    by_key: Mapping[tuple[str, str, str], KubeObject]

    @classmethod
    def build(cls, objects: Iterable[KubeObject]) -> ObjectIndex:
        """`by_kind` holds every object of a kind, whatever its API group (readers that care
        pick by apiVersion); in `by_key` an object of Kubernetes' own API groups wins over a
        same-named one of another group (a Calico NetworkPolicy never answers a lookup of the
        networking.k8s.io NetworkPolicy it shares a namespace and name with)."""
        by_kind: dict[str, list[KubeObject]] = {}
        by_key: dict[tuple[str, str, str], KubeObject] = {}
        for obj in objects:
            kind = str(obj.get("kind", ""))
            meta = obj.get("metadata") or {}
            by_kind.setdefault(kind, []).append(obj)
            key = (kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            if key not in by_key or _kubernetes_group(obj) or not _kubernetes_group(by_key[key]):
                by_key[key] = obj
        return cls(
            by_kind={kind: tuple(items) for kind, items in by_kind.items()},
            by_key=by_key,
        )


def _kubernetes_group(obj: KubeObject) -> bool:
    """Whether the object's API group is one of Kubernetes' own: the core group, a group
    without a dot (apps, batch, policy, ...) or one under k8s.io."""
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Everything the checks may look at. Build it with `Evidence.of(...)`."""

    objects: tuple[KubeObject, ...]
    index: ObjectIndex
    logs: Mapping[LogKey, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    metrics: tuple[KubeObject, ...] = ()
    probes: tuple[probes_file.ProbeResult, ...] = ()
    incident: Incident | None = None
    provenance: str = ""
    """Where the evidence came from: "bundle ./incident-42", "live cluster prod-eu", "demo seed"."""
    gaps: tuple[Gap, ...] = ()
    """What could not be gathered."""
    cloud: tuple[CloudDocument, ...] = ()
    """Cloud network rules and inventories (security groups, firewall rules, NSGs, interfaces)."""
    taken_at: str = ""
    """When the evidence was taken, ISO 8601 UTC ("2026-11-26T03:24:07Z"); see `taken_basis`."""
    taken_basis: str = ""
    """How `taken_at` is known: "gathered at", "newest object or log time", "bundle modified"."""
    flows: tuple[hubble.Flow, ...] = ()
    """DROPPED Hubble flows from the bundle's flows/*.jsonl (evidence.hubble)."""

    @classmethod
    def of(
        cls,
        objects: Iterable[KubeObject],
        *,
        logs: Mapping[LogKey, tuple[str, ...]] | None = None,
        metrics: Iterable[KubeObject] = (),
        probes: Iterable[probes_file.ProbeResult] = (),
        incident: Incident | None = None,
        provenance: str = "",
        gaps: Iterable[Gap | str] = (),
        cloud: Iterable[CloudDocument] = (),
        taken_at: str = "",
        taken_basis: str = "",
        flows: Iterable[hubble.Flow] = (),
    ) -> Evidence:
        objs = tuple(objects)
        return cls(
            objects=objs,
            index=ObjectIndex.build(objs),
            logs=dict(logs or {}),
            metrics=tuple(metrics),
            probes=tuple(probes),
            incident=incident,
            provenance=provenance,
            gaps=tuple(g if isinstance(g, Gap) else Gap.parse(g) for g in gaps),
            cloud=tuple(cloud),
            taken_at=taken_at,
            taken_basis=taken_basis,
            flows=tuple(flows),
        )

    def kind(self, kind: str, namespace: str | None = None) -> tuple[KubeObject, ...]:
        """All objects of `kind`, optionally only those in `namespace`."""
        items = self.index.by_kind.get(kind, ())
        if namespace is None:
            return items
        return tuple(o for o in items if (o.get("metadata") or {}).get("namespace") == namespace)

    def get(self, kind: str, namespace: str | None, name: str) -> KubeObject | None:
        """One object by kind, namespace ("" or None for cluster-scoped) and name."""
        return self.index.by_key.get((kind, namespace or "", name))

    def namespace_names(self) -> set[str]:
        """Namespaces the evidence knows of: its Namespace objects and the namespaces its
        objects sit in (a bundle without Namespace objects still names them)."""
        names = {str((n.get("metadata") or {}).get("name") or "") for n in self.kind("Namespace")}
        names |= {str((o.get("metadata") or {}).get("namespace") or "") for o in self.objects}
        return names - {""}

    def pod_logs(self, namespace: str, pod: str) -> dict[str, tuple[str, ...]]:
        """Log lines of every container of one pod, by container name."""
        return {c: lines for (ns, p, c), lines in self.logs.items() if ns == namespace and p == pod}

    def probes_of(self, kind: str) -> tuple[probes_file.ProbeResult, ...]:
        """Recorded probe results of one kind ("tcp", "dns", "postgres")."""
        return tuple(p for p in self.probes if p.kind == kind)

    def gaps_about(self, kind: str, namespaces: Iterable[str] | None = None) -> tuple[Gap, ...]:
        """The gaps that hide evidence of `kind` (in one of `namespaces`, when given)."""
        return tuple(g for g in self.gaps if g.about(kind, namespaces))

    def cloud_of(self, provider: str, kind: str) -> tuple[CloudDocument, ...]:
        """The cloud documents of one provider and kind ("aws", "SecurityGroups")."""
        return tuple(d for d in self.cloud if d.provider == provider and d.kind == kind)

    def with_cloud(self, docs: Iterable[CloudDocument], gaps: Iterable[str] = ()) -> Evidence:
        """A copy with more cloud documents and the gaps of reading them (`--cloud aws`)."""
        return dataclasses.replace(
            self,
            cloud=self.cloud + tuple(docs),
            gaps=self.gaps + tuple(Gap("", "", line) for line in gaps),
        )

    def with_probes(self, probes: Iterable[probes_file.ProbeResult]) -> Evidence:
        """A copy with more probe results (phase two of gathering)."""
        return dataclasses.replace(self, probes=self.probes + tuple(probes))
