"""The resource table of live gathering: which API path reads each kind, keyed so that two kinds
of one name in different API groups never meet.

A key is what `evidence.needs.Need.key` says: the bare kind for the kinds the gatherer knows
(`RESOURCES`: Pod, NetworkPolicy of networking.k8s.io, ...), the kind qualified by its API group
for a kind a check's need names with its own group/version (`NetworkPolicy.projectcalico.org`,
`AdminNetworkPolicy.policy.networking.k8s.io`). So Calico's NetworkPolicy (projectcalico.org/v3,
or crd.projectcalico.org/v1 without Calico's API server) is listed from its own path, stored
under its own key and never read where networking.k8s.io NetworkPolicies are, and vice versa.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.evidence import needs as needs_model
from paramedic.kube import objects

# key -> (API prefix, plural) for the kinds the gatherer reads whatever the checks need
RESOURCES: dict[str, tuple[str, str]] = {
    "Namespace": ("/api/v1", "namespaces"),
    "Node": ("/api/v1", "nodes"),
    "Pod": ("/api/v1", "pods"),
    "Service": ("/api/v1", "services"),
    "Endpoints": ("/api/v1", "endpoints"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "Secret": ("/api/v1", "secrets"),
    "Event": ("/api/v1", "events"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "Job": ("/apis/batch/v1", "jobs"),
    "NetworkPolicy": ("/apis/networking.k8s.io/v1", "networkpolicies"),
    "EndpointSlice": ("/apis/discovery.k8s.io/v1", "endpointslices"),
    "PodMetrics": ("/apis/metrics.k8s.io/v1beta1", "pods"),
    "HorizontalPodAutoscaler": ("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    "CronJob": ("/apis/batch/v1", "cronjobs"),
}
CLUSTER_SCOPED = frozenset({"Namespace", "Node"})
KIND_ORDER = (
    "Namespace",
    "Node",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "Pod",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "NetworkPolicy",
    "Secret",
    "ConfigMap",
    "Event",
)
"""How a capture lists objects: these kinds first, in this order, then the others by kind."""

Table = Mapping[str, tuple[str, str]]
"""key -> (API prefix, plural)."""


def resources(needs: Iterable[needs_model.Need]) -> dict[str, tuple[str, str]]:
    """RESOURCES plus the kinds that needs name with their own API group/version (by key)."""
    table = dict(RESOURCES)
    for need in needs:
        if need.is_object and need.key not in table and need.api:
            prefix = "/api/v1" if need.api == "v1" else f"/apis/{need.api}"
            table[need.key] = (prefix, need.resource)
    return table


def unknown(needs: Iterable[needs_model.Need]) -> list[needs_model.Need]:
    """Object needs that no table entry can fetch (a kind without API group/version)."""
    table = resources(needs)
    return [n for n in needs if n.is_object and n.key not in table]


def kind_of(key: str) -> str:
    """The kind a key reads ('NetworkPolicy' for 'NetworkPolicy.projectcalico.org')."""
    return key.partition(".")[0]


def api_version(key: str, table: Table = RESOURCES) -> str:
    prefix = table[key][0]
    return prefix.removeprefix("/api/").removeprefix("/apis/")


def resource_name(key: str, table: Table = RESOURCES) -> str:
    """How kubectl names what a key reads: 'pods', 'networkpolicies.projectcalico.org'."""
    group = api_version(key, table).rpartition("/")[0]
    plural = table[key][1]
    return f"{plural}.{group}" if key not in RESOURCES and group else plural


def path(
    key: str, namespace: str | None = None, name: str | None = None, table: Table = RESOURCES
) -> str:
    """/api/v1/namespaces/app/pods[/name]; cluster-wide when namespace is None."""
    prefix, plural = table[key]
    base = f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"
    return f"{base}/{name}" if name else base


def object_key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(key, namespace, name) of a fetched object: its bare kind when it is of the group the
    gatherer reads that kind from (or names no apiVersion), else the kind with its group, so a
    Calico NetworkPolicy and a networking.k8s.io one of the same name are kept apart."""
    kind = str(obj.get("kind"))
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    known = kind in RESOURCES and api_version(kind).rpartition("/")[0] == group
    key = kind if known or not obj.get("apiVersion") else f"{kind}.{group}" if group else kind
    return key, objects.namespace(obj), objects.name(obj)


def ordered(found: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects in KIND_ORDER, then by kind, namespace, name and apiVersion (how a capture lists
    them: a Calico NetworkPolicy sorts beside, never instead of, a Kubernetes one)."""
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    return sorted(
        found,
        key=lambda o: (
            order.get(str(o.get("kind")), len(order)),
            str(o.get("kind")),
            objects.namespace(o),
            objects.name(o),
            str(o.get("apiVersion") or ""),
        ),
    )
