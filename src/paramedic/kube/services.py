"""Services: which pods back them, which endpoints are ready, and how ports translate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.kube import objects, pods, selectors


def selected_pods(
    service: Mapping[str, Any], all_pods: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Pods in the Service's namespace that its selector picks (none without a selector)."""
    sel = objects.spec(service).get("selector")
    ns = objects.namespace(service)
    return [
        dict(p)
        for p in all_pods
        if objects.namespace(p) == ns and selectors.map_matches(sel, objects.labels(p))
    ]


def is_external(service: Mapping[str, Any]) -> bool:
    """ExternalName, or no selector (endpoints maintained by hand, usually outside the cluster)."""
    spec = objects.spec(service)
    return spec.get("type") == "ExternalName" or not objects.as_dict(spec.get("selector"))


def service_ports(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [p for p in objects.as_list(objects.spec(service).get("ports")) if isinstance(p, dict)]


def port_number(port: int | str) -> int | str:
    """A port as typed or written: ASCII digits are a number, anything else a port name."""
    if isinstance(port, str) and port.isascii() and port.isdigit():
        return int(port)
    return port


def find_port(
    service: Mapping[str, Any], port: int | str | None, *, protocol: str | None = None
) -> dict[str, Any] | None:
    """The Service port matching a number or name; the only port when `port` is None.

    With `protocol`, only ports of that protocol count (kube-dns has 53/UDP and 53/TCP).
    """
    ports = service_ports(service)
    if protocol is not None:
        ports = [p for p in ports if (p.get("protocol") or "TCP") == protocol]
    if port is None:
        return ports[0] if len(ports) == 1 else None
    for p in ports:
        if p.get("port") == port or (isinstance(port, str) and p.get("name") == port):
            return p
        if isinstance(port, str) and port.isdecimal() and p.get("port") == int(port):
            return p
    return None


def describe_ports(service: Mapping[str, Any]) -> str:
    """The Service's ports as NAME:PORT for an error message ('postgres:5432, -:9187'; 'none')."""
    ports = service_ports(service)
    return ", ".join(f"{p.get('name') or '-'}:{p.get('port')}" for p in ports) or "none"


def container_port(pod: Mapping[str, Any], target: int | str, protocol: str = "TCP") -> int | None:
    """The pod port a targetPort refers to: numbers as they are, names looked up per pod."""
    if isinstance(target, int):
        return target
    if target.isdecimal():
        return int(target)
    for container in pods.containers(pod):
        for cp in objects.as_list(container.get("ports")):
            if (
                isinstance(cp, dict)
                and cp.get("name") == target
                and (cp.get("protocol") or "TCP") == protocol
            ):
                value = cp.get("containerPort")
                return int(value) if isinstance(value, int) else None
    return None


def target_port(service_port: Mapping[str, Any]) -> int | str:
    """A Service port's targetPort (defaults to its port)."""
    value = service_port.get("targetPort")
    if value in (None, "") or isinstance(value, bool):
        value = service_port.get("port")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return int(value) if value.strip().isdecimal() else value.strip()
    return 0  # a malformed port in a hand-made bundle: matches no container port


def endpoint_addresses(
    service: Mapping[str, Any],
    endpoints: Iterable[Mapping[str, Any]],
    slices: Iterable[Mapping[str, Any]],
) -> tuple[list[str], list[str]]:
    """(ready, not ready) endpoint IPs of a Service, from EndpointSlices, else Endpoints."""
    ns, svc = objects.namespace(service), objects.name(service)
    ready: list[str] = []
    not_ready: list[str] = []
    own = [
        s
        for s in slices
        if objects.namespace(s) == ns and objects.labels(s).get("kubernetes.io/service-name") == svc
    ]
    if own:
        for s in own:
            for ep in objects.as_list(s.get("endpoints")):
                if not isinstance(ep, dict):
                    continue
                cond = objects.as_dict(ep.get("conditions"))
                is_ready = cond.get("ready") is not False  # nil means ready
                (ready if is_ready else not_ready).extend(
                    map(str, objects.as_list(ep.get("addresses")))
                )
        return ready, not_ready
    for ep in endpoints:
        if objects.namespace(ep) != ns or objects.name(ep) != svc:
            continue
        for subset in objects.as_list(ep.get("subsets")):
            subset = objects.as_dict(subset)
            ready += [
                str(a.get("ip"))
                for a in objects.as_list(subset.get("addresses"))
                if isinstance(a, dict)
            ]
            not_ready += [
                str(a.get("ip"))
                for a in objects.as_list(subset.get("notReadyAddresses"))
                if isinstance(a, dict)
            ]
    return ready, not_ready


def has_endpoint_objects(
    service: Mapping[str, Any],
    endpoints: Iterable[Mapping[str, Any]],
    slices: Iterable[Mapping[str, Any]],
) -> bool:
    """Whether the evidence holds any Endpoints/EndpointSlice for the Service at all."""
    ns, svc = objects.namespace(service), objects.name(service)
    return any(objects.namespace(e) == ns and objects.name(e) == svc for e in endpoints) or any(
        objects.namespace(s) == ns and objects.labels(s).get("kubernetes.io/service-name") == svc
        for s in slices
    )
