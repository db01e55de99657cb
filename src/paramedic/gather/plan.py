"""What to fetch for one incident: pure functions from the user's words, the needs of the
runbook's checks and fetched objects to API paths. No I/O here, so the plan is tested without a
server.

Two sources decide what is fetched: resolving the incident (the source's workload and pods, the
target Service with its endpoints and pods, their owners, what their pod specs reference, cluster
DNS: the waves fetch these by name or selector), and the checks' `needs` (evidence.needs): a
need that resolution does not cover becomes a list request (`listings`), and a kind the
gatherer does not know is fetched with the API group/version its need names (gather.table,
keyed by kind and group).

How DST names a Service and how a SRC name or selector is read come from kube.resolve, and
selectors as `?labelSelector=` text from kube.selectors, so the gatherer fetches exactly what
diagnosis will later look for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.evidence import needs as needs_model
from paramedic.gather import table
from paramedic.kube import names, objects, pods, selectors

DNS_NAMESPACE = needs_model.DNS_NAMESPACE
DNS_SELECTOR = "k8s-app=kube-dns"
DNS_SERVICE = "kube-dns"
DNS_CONFIGMAP = "coredns"
DNS_DEPLOYMENT = "coredns"
MAX_LOG_PODS = 3
"""Log tails are fetched for at most this many pods per group (source, target, CoreDNS)."""

Scope = needs_model.Scope
RESOLVED: dict[needs_model.Scope, frozenset[str]] = {
    Scope.INCIDENT: frozenset(
        {
            "Pod",
            "Service",
            "Endpoints",
            "EndpointSlice",
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "Job",
        }
    ),
    Scope.DNS: frozenset({"Pod", "Service", "Endpoints", "EndpointSlice", "Deployment"}),
    Scope.REFERENCED: frozenset({"Secret", "ConfigMap"}),
}
"""Kinds that resolving the incident fetches, per scope (the waves), only where that fetch is
every object of the kind a need of the scope can mean. Not ConfigMap in DNS: the waves get
CoreDNS's `coredns` by name, but a check may read other ConfigMaps of kube-system (the CNI's
`cilium-config`, `calico-config`), so a ConfigMap need there is a list."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """DST as the user wrote it, split into a Service (namespace, name) or an outside host."""

    host: str
    port: str | None
    service_namespace: str | None
    service_name: str | None

    @property
    def is_service(self) -> bool:
        return self.service_name is not None


def discover_apis(needs: Iterable[needs_model.Need]) -> frozenset[str]:
    """group/versions of `discover` needs: listed only if discovery shows them served."""
    return frozenset(n.api for n in needs if n.is_object and n.discover and n.api)


def listings(
    needs: Iterable[needs_model.Need],
    source_namespace: str,
    target_namespace: str | None,
    served: frozenset[str] | None = None,
) -> list[tuple[str, str | None]]:
    """(key, namespace or None for cluster-wide) to list because a need asks for more than
    resolving the incident fetches; sorted, each once (keys: gather.table). `served`: None lists
    the required needs; a set of group/versions lists the `discover` needs whose API is in it
    and whose `superseded_by` is not. A key listed cluster-wide is not listed again per
    namespace."""
    found: set[tuple[str, str | None]] = set()
    for need in needs:
        if not need.is_object or need.key in RESOLVED.get(need.scope, ()):
            continue
        if need.discover != (served is not None) or (served is not None and need.api not in served):
            continue
        if served is not None and need.superseded_by in served:
            continue  # the same objects come through the API that supersedes this one
        spaces = needs_model.namespaces(need.scope, source_namespace, target_namespace)
        if spaces is None or need.key in table.CLUSTER_SCOPED:
            found.add((need.key, None))
        else:
            found |= {(need.key, space) for space in spaces}
    everywhere = {key for key, space in found if space is None}
    return sorted(
        ((key, space) for key, space in found if space is None or key not in everywhere),
        key=lambda item: (item[0], item[1] or ""),
    )


def wants(needs: Iterable[needs_model.Need], kind: str, scope: needs_model.Scope) -> bool:
    """Whether a need asks for logs or metrics (`kind`) of `scope`."""
    return any(n.kind == kind and n.scope is scope for n in needs)


def target(text: str, namespace: str) -> Target:
    """Split DST into host, port and the Service it names (if any), as kube.resolve reads it."""
    host, port = names.split_port(text)
    service_namespace, service_name = names.service_name(host, namespace)
    return Target(
        host=host,
        port=port,
        service_namespace=service_namespace if service_name else None,
        service_name=service_name,
    )


def label_selector(selector: Mapping[str, Any] | None) -> str | None:
    """A LabelSelector as `?labelSelector=` text ("" selects every pod); None when there is
    none (it selects nothing)."""
    if not isinstance(selector, Mapping):
        return None
    text = selectors.describe(selector)
    return "" if text == "<all>" else text


def map_selector(selector: Mapping[str, Any] | None) -> str | None:
    """A Service's selector map as `?labelSelector=` text; None when empty (selects nothing)."""
    if not isinstance(selector, Mapping) or not selector:
        return None
    return label_selector({"matchLabels": selector})


def referenced(
    objs: Iterable[Mapping[str, Any]],
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(Secrets, ConfigMaps) as (namespace, name) that pod specs reference."""
    secrets: set[tuple[str, str]] = set()
    config_maps: set[tuple[str, str]] = set()
    for obj in objs:
        ns = objects.namespace(obj)
        spec = pods.pod_spec(obj)
        for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
            for env in c.get("env") or []:
                source = (env or {}).get("valueFrom") or {}
                _add(secrets, ns, (source.get("secretKeyRef") or {}).get("name"))
                _add(config_maps, ns, (source.get("configMapKeyRef") or {}).get("name"))
            for env_from in c.get("envFrom") or []:
                _add(secrets, ns, ((env_from or {}).get("secretRef") or {}).get("name"))
                _add(config_maps, ns, ((env_from or {}).get("configMapRef") or {}).get("name"))
        for volume in spec.get("volumes") or []:
            volume = volume or {}
            _add(secrets, ns, (volume.get("secret") or {}).get("secretName"))
            _add(config_maps, ns, (volume.get("configMap") or {}).get("name"))
            for src in (volume.get("projected") or {}).get("sources") or []:
                _add(secrets, ns, ((src or {}).get("secret") or {}).get("name"))
                _add(config_maps, ns, ((src or {}).get("configMap") or {}).get("name"))
    return secrets, config_maps


def log_targets(group: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str, bool]]:
    """(namespace, pod, container, previous) for the first MAX_LOG_PODS pods: every container's
    current log, plus the previous one of containers that restarted."""
    found = []
    for pod in sorted(group, key=objects.name)[:MAX_LOG_PODS]:
        ns, name = objects.namespace(pod), objects.name(pod)
        restarted = {
            s.get("name")
            for s in objects.as_list(objects.status(pod).get("containerStatuses"))
            if isinstance(s, dict) and s.get("restartCount")
        }
        for c in objects.as_list(objects.spec(pod).get("containers")):
            if not isinstance(c, dict) or not c.get("name"):
                continue
            found.append((ns, name, str(c["name"]), False))
            if c["name"] in restarted:
                found.append((ns, name, str(c["name"]), True))
    return found


def owner_refs(objs: Iterable[Mapping[str, Any]]) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of the controllers of `objs` that the gatherer can read."""
    found = set()
    for obj in objs:
        for ref in objects.as_list(objects.meta(obj).get("ownerReferences")):
            kind = objects.as_dict(ref).get("kind")
            if kind in table.RESOURCES and ref.get("name"):
                found.add((str(kind), objects.namespace(obj), str(ref["name"])))
    return found


def _add(into: set[tuple[str, str]], namespace: str, name: Any) -> None:
    if isinstance(name, str) and name:
        into.add((namespace, name))


METRICS_VERSION = "metrics.k8s.io/v1beta1"


def served_versions(discovery: Any) -> frozenset[str]:
    """The group/versions an `/apis` discovery answer lists (none for a failed or odd answer)."""
    groups = discovery.get("groups") if isinstance(discovery, dict) else None
    return frozenset(
        str(v.get("groupVersion"))
        for g in objects.as_list(groups)
        if isinstance(g, dict)
        for v in objects.as_list(g.get("versions"))
        if isinstance(v, dict)
    )
