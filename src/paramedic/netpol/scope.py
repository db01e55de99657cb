"""The flows an incident stands for: its source pods and its target pods/ports, as peers.

The source is every pod of the workload (its pod template when it has none); the target is
every pod behind the Service, each on the pod port the Service port translates to (named
targetPorts resolved per pod), else the pod templates of the workloads the Service would select;
an external target is its endpoint IPs, its host IP, or the addresses a recorded DNS probe
resolved its name to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import names, objects, pods, resolve, selectors, services
from paramedic.netpol import peers

Target = tuple[peers.Peer, int]


def sources(scope: resolve.Scope) -> list[peers.Peer]:
    if scope.source_pods:
        return [peers.Peer.pod(p) for p in scope.source_pods]
    if scope.source_workload is not None:
        return [peers.Peer.template(scope.source_workload)]
    return []


def protocol(scope: resolve.Scope) -> str:
    if scope.target_service is not None:
        sp = services.find_port(scope.target_service, scope.port)
        if sp is not None:
            return str(sp.get("protocol") or "TCP")
    return "TCP"


def targets(ev: evidence_model.Evidence, scope: resolve.Scope, protocol: str) -> list[Target]:
    service, port = scope.target_service, scope.port or 0
    if scope.external:
        if service is not None:
            home = objects.namespace(service)  # its endpoints sit beside it
            ready, _ = services.endpoint_addresses(
                service, ev.kind("Endpoints", home), ev.kind("EndpointSlice", home)
            )
            target = _target_port(service, scope.port, port)
            wanted = target if isinstance(target, int) else port
            return [(peers.Peer.ip(ip), wanted) for ip in ready if names.is_ip(ip)]
        if names.is_ip(scope.target_host):
            return [(peers.Peer.ip(scope.target_host), port)]
        return [(peers.Peer.ip(ip), port) for ip in resolved(ev, scope.target_host)]
    assert service is not None
    target = _target_port(service, scope.port, port)
    backends: list[Mapping[str, Any]] = list(scope.target_pods) or templates(ev, service)
    found: list[Target] = []
    for obj in backends:
        peer = peers.Peer.pod(obj) if obj.get("kind") == "Pod" else peers.Peer.template(obj)
        on_pod = services.container_port(obj, target, protocol)
        if on_pod is not None:
            found.append((peer, on_pod))
    return found


def _target_port(service: Mapping[str, Any], port: int | str | None, default: int) -> int | str:
    """The targetPort of the Service port the incident names (`default` when there is none)."""
    sp = services.find_port(service, port)
    return services.target_port(sp) if sp else default


def templates(ev: evidence_model.Evidence, service: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Workloads whose pod template the Service would select (when it has no pods)."""
    sel = objects.spec(service).get("selector")
    ns = objects.namespace(service)
    return [
        w
        for kind in ("Deployment", "StatefulSet", "DaemonSet")
        for w in ev.kind(kind, ns)
        if selectors.map_matches(sel, pods.template_labels(w))
    ]


def resolved(ev: evidence_model.Evidence, host: str) -> list[str]:
    """Addresses a recorded DNS probe resolved `host` to (none when it was not probed)."""
    found: list[str] = []
    for probe in ev.probes_of("dns"):
        if probe.target.rstrip(".") == host.rstrip(".") and probe.ok:
            found += [
                str(a) for a in objects.as_list(probe.data.get("addresses")) if names.is_ip(str(a))
            ]
    return list(dict.fromkeys(found))
