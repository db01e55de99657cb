"""What the user types for SRC and DST, read as text alone (no evidence needed): NS/NAME and
KIND/NAME as kubectl writes them, label selectors, HOST:PORT, cluster DNS names
(name.ns[.svc[.cluster.local]], pod.service.ns.svc...), outside host names and IP addresses.
`resolve` matches what these say against the evidence.
"""

from __future__ import annotations

import ipaddress
import re

from paramedic import errors

CLUSTER_DOMAIN = "cluster.local"

KIND_ALIASES = {
    "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
    "statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
    "daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
    "pod": "Pod", "pods": "Pod", "po": "Pod",
}  # fmt: skip


SERVICE_ALIASES = {"svc", "service", "services"}


def split_source(source: str) -> tuple[str | None, str | None, str]:
    """(namespace, kind, name) of SRC as kubectl users write it: NAME, NS/NAME, KIND/NAME
    (deployment/user-service, sts/x, pod/y) or a label selector (returned whole as the name)."""
    if is_selector(source) or "/" not in source:
        return None, None, source
    first, _, name = source.partition("/")
    kind = KIND_ALIASES.get(first.lower().split(".", 1)[0])
    return (None, kind, name) if kind else (first, None, name)


def is_selector(text: str) -> bool:
    """Whether SRC is a label selector ('app=a', 'tier!=db', 'env in (x)') rather than a name."""
    return any(ch in text for ch in "=!(") or " in " in text


_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
HOST_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
"""A DNS name an outside host can have: dot-separated labels of 1-63 letters, digits, '-', '_'."""


def split_port(target: str) -> tuple[str, str | None]:
    """(host, port) of DST, the ':PORT' (a number or a port name) split off; IPv6 as '[v6]:port'."""
    if target.startswith("[") and "]" in target:  # [v6]:port
        host, _, rest = target[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if target.count(":") == 1:
        host, port = target.split(":")
        return host, port
    return target, None


def service_name(target: str, namespace: str) -> tuple[str, str | None]:
    """(namespace, name) of the Service that `target` names, or (ns, None) for an outside host.

    `svc/NAME` (also `service/`, `services/`, and `svc/NAME.NS`) as kubectl writes it; NS/NAME.
    A workload or pod as the target is refused by name: clients connect to its Service."""
    if "/" in target:
        first, _, name = target.partition("/")
        kind = first.lower().split(".", 1)[0]
        if kind in SERVICE_ALIASES:
            name, _, ns = name.partition(".")
            return (ns.split(".", 1)[0] or namespace), name
        if kind in KIND_ALIASES:
            raise errors.IncidentError(
                f"target {target!r}: name the Service in front of it (svc/NAME): clients"
                " connect to a Service, not to a workload"
            )
        return first, name
    if is_ip(target):
        return namespace, None
    parts = target.rstrip(".").lower().split(".")  # DNS names are case-insensitive
    if len(parts) == 1:
        return namespace, parts[0]
    rest = ".".join(parts[2:])
    if rest in ("", "svc", f"svc.{CLUSTER_DOMAIN}") or rest.startswith("svc."):
        return parts[1], parts[0]
    if len(parts) >= 4 and parts[3] == "svc":  # pod.service.ns.svc[...]: a pod behind a Service
        return parts[2], parts[1]
    return namespace, None


def pod_hostname(target: str) -> str | None:
    """'profile-db-0' for 'profile-db-0.profile-db.data.svc[.cluster.local]', else None."""
    parts = target.rstrip(".").lower().split(".")
    return parts[0] if len(parts) >= 4 and parts[3] == "svc" and "/" not in target else None


def is_cluster_name(target: str, *, known: bool) -> bool:
    """name.ns.svc[...] is always a cluster name; name.ns only when ns is a known namespace."""
    parts = target.rstrip(".").split(".")
    return (len(parts) == 2 and known) or (len(parts) >= 3 and parts[2] == "svc")


def is_ip(text: str) -> bool:
    """Whether `text` is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
