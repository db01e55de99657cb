"""What to fetch for one incident: pure functions from the user's words and fetched objects to
API paths. No I/O here, so the plan is tested without a server.

The evidence layer sits below `kube/`, so the few facts needed to plan (how DST names a
Service, a LabelSelector as `?labelSelector=` text, which Secrets a pod spec references) are
restated here in their minimal form; kube.resolve stays the authority for diagnosis.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

CLUSTER_DOMAIN = "cluster.local"
DNS_NAMESPACE = "kube-system"
DNS_SELECTOR = "k8s-app=kube-dns"
DNS_SERVICE = "kube-dns"
DNS_CONFIGMAP = "coredns"
DNS_DEPLOYMENT = "coredns"
MAX_LOG_PODS = 3
"""Log tails are fetched for at most this many pods per group (source, target, CoreDNS)."""

# kind -> (API prefix, plural) for everything the gatherer reads
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
}
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
SOURCE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Pod")
"""Tried in this order for a SRC name, as kube.resolve does."""


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


def api_version(kind: str) -> str:
    prefix = RESOURCES[kind][0]
    return prefix.removeprefix("/api/").removeprefix("/apis/")


def path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
    """/api/v1/namespaces/app/pods[/name]; cluster-wide when namespace is None."""
    prefix, plural = RESOURCES[kind]
    base = f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"
    return f"{base}/{name}" if name else base


def is_selector(text: str) -> bool:
    return any(ch in text for ch in "=!(") or " in " in text


def target(text: str, namespace: str) -> Target:
    """Split DST into host, port and the Service it names (if any), as kube.resolve reads it."""
    host, port = _split_port(text)
    if "/" in host:
        ns, _, name = host.partition("/")
        return Target(host=host, port=port, service_namespace=ns, service_name=name)
    if is_ip(host):
        return Target(host=host, port=port, service_namespace=None, service_name=None)
    parts = host.rstrip(".").split(".")
    if len(parts) == 1:
        return Target(host=host, port=port, service_namespace=namespace, service_name=parts[0])
    rest = ".".join(parts[2:])
    if rest in ("", "svc", f"svc.{CLUSTER_DOMAIN}") or rest.startswith("svc."):
        return Target(host=host, port=port, service_namespace=parts[1], service_name=parts[0])
    return Target(host=host, port=port, service_namespace=None, service_name=None)


def label_selector(selector: Mapping[str, Any] | None) -> str | None:
    """A LabelSelector as `?labelSelector=` text; None when it selects nothing."""
    if not isinstance(selector, Mapping):
        return None
    terms = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key"), expr.get("operator")
        values = ",".join(str(v) for v in expr.get("values") or [])
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": f"{key}",
                "DoesNotExist": f"!{key}",
            }.get(str(op), f"{key}")
        )
    return ",".join(terms)


def map_selector(selector: Mapping[str, Any] | None) -> str | None:
    """A Service's selector map as `?labelSelector=` text; None when empty (selects nothing)."""
    if not isinstance(selector, Mapping) or not selector:
        return None
    return ",".join(f"{k}={v}" for k, v in selector.items())


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    return (spec.get("template") or {}).get("spec") or {}


def referenced(
    objs: Iterable[Mapping[str, Any]],
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(Secrets, ConfigMaps) as (namespace, name) that pod specs reference."""
    secrets: set[tuple[str, str]] = set()
    config_maps: set[tuple[str, str]] = set()
    for obj in objs:
        ns = str((obj.get("metadata") or {}).get("namespace") or "")
        spec = pod_spec(obj)
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


def log_targets(pods: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str, bool]]:
    """(namespace, pod, container, previous) for the first MAX_LOG_PODS pods: every container's
    current log, plus the previous one of containers that restarted."""
    found = []
    for pod in sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("name")))[
        :MAX_LOG_PODS
    ]:
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        restarted = {
            s.get("name")
            for s in (pod.get("status") or {}).get("containerStatuses") or []
            if (s or {}).get("restartCount")
        }
        for c in (pod.get("spec") or {}).get("containers") or []:
            if not (c or {}).get("name"):
                continue
            found.append((ns, name, str(c["name"]), False))
            if c["name"] in restarted:
                found.append((ns, name, str(c["name"]), True))
    return found


def owner_refs(objs: Iterable[Mapping[str, Any]]) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of the controllers of `objs` that the gatherer can read."""
    found = set()
    for obj in objs:
        meta = obj.get("metadata") or {}
        for ref in meta.get("ownerReferences") or []:
            kind = (ref or {}).get("kind")
            if kind in RESOURCES and ref.get("name"):
                found.add((str(kind), str(meta.get("namespace") or ""), str(ref["name"])))
    return found


def _add(into: set[tuple[str, str]], namespace: str, name: Any) -> None:
    if isinstance(name, str) and name:
        into.add((namespace, name))


def _split_port(text: str) -> tuple[str, str | None]:
    if text.startswith("[") and "]" in text:
        host, _, rest = text[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port
    return text, None


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
