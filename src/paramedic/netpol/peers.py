"""Who talks: `Peer` values (a pod, a workload's pod template, or an IP) and resolving user text.

`resolve(evidence, "ns/name" | "1.2.3.4", port)` turns what a user wrote into endpoints the
engine can evaluate: a pod; else a Service, translated to its backing pods and each pod's
targetPort (named targetPorts resolved per pod, as the data path does); or a bare IP (an IP that
belongs to a pod in the evidence *is* that pod). hostNetwork pods are seen as their node's IP.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from paramedic import errors
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, services


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Peer:
    """One end of a flow. `kind` is 'pod' (a pod or a pod template) or 'ip'."""

    kind: str
    namespace: str = ""
    name: str = ""
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    address: str | None = None
    """The pod IP, or the IP itself for an 'ip' peer."""
    node_ip: str | None = None
    host_network: bool = False
    obj: Mapping[str, Any] | None = None
    """The Pod (or workload, for a template) whose containers define named ports."""
    note: str = ""

    @classmethod
    def pod(cls, obj: Mapping[str, Any]) -> Peer:
        status = objects.status(obj)
        return cls(
            kind="pod",
            namespace=objects.namespace(obj) or "default",
            name=objects.name(obj),
            labels=objects.labels(obj),
            address=str(status.get("podIP") or "") or None,
            node_ip=str(status.get("hostIP") or "") or None,
            host_network=bool(pods.pod_spec(obj).get("hostNetwork")),
            obj=obj,
        )

    @classmethod
    def template(cls, workload: Mapping[str, Any]) -> Peer:
        """The pods a workload would run (used when it has no pods in the evidence)."""
        return cls(
            kind="pod",
            namespace=objects.namespace(workload) or "default",
            name=objects.name(workload),
            labels=pods.template_labels(workload),
            host_network=bool(pods.pod_spec(workload).get("hostNetwork")),
            obj=workload,
            note=f"pod template of {objects.ref(workload)}",
        )

    @classmethod
    def synthetic(cls, namespace: str, name: str, labels: Mapping[str, str], note: str) -> Peer:
        return cls(kind="pod", namespace=namespace, name=name, labels=dict(labels), note=note)

    @classmethod
    def ip(cls, address: str) -> Peer:
        try:
            parsed = ipaddress.ip_address(address.strip())
        except ValueError as exc:
            raise errors.InputError(f"{address!r} is not an IP address") from exc
        return cls(kind="ip", address=str(parsed))

    @property
    def ref(self) -> str:
        """'ns/name' for a pod, the address for an IP."""
        return f"{self.namespace}/{self.name}" if self.kind == "pod" else str(self.address)

    @property
    def selectable(self) -> bool:
        """Whether pod/namespace selectors can match it (a pod on the pod network)."""
        return self.kind == "pod" and not self.host_network

    @property
    def network_ip(self) -> str | None:
        """The source/destination address seen on the wire (node IP for hostNetwork pods)."""
        if self.kind == "pod" and self.host_network:
            return self.node_ip
        return self.address

    def same_pod(self, other: Peer) -> bool:
        return (
            self.kind == "pod"
            and other.kind == "pod"
            and bool(self.name)
            and self.obj is not None
            and (self.namespace, self.name) == (other.namespace, other.name)
        )

    def describe(self) -> str:
        if self.kind == "ip":
            return f"IP {self.address}"
        what = f"pod {self.ref}"
        if self.note:
            what = f"{what} ({self.note})"
        if self.host_network:
            what = f"{what} (hostNetwork: seen as node IP {self.node_ip or 'unknown'})"
        return what


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """A resolved peer and the port on it (numeric once resolved), with how we got there."""

    peer: Peer
    port: int | str | None
    via: str = ""


def resolve(
    evidence: evidence_model.Evidence,
    text: str,
    port: int | str | None = None,
    protocol: str = "TCP",
    *,
    source: bool = False,
) -> tuple[Endpoint, ...]:
    """Endpoints for 'ns/name' (pod, else Service) or a bare IP. Raises InputError if unknown.

    With `source=True` a Service stands for its backing pods and no port is looked up.
    """
    text = text.strip()
    port = None if port is None else services.port_number(port)
    if "/" not in text:
        peer = _by_ip(evidence, text)
        return (Endpoint(peer=peer, port=_pod_port(peer, port, protocol)),)
    namespace, _, name = text.partition("/")
    if not namespace or not name:
        raise errors.InputError(f"peer {text!r}: expected NS/NAME or an IP address")
    pod = evidence.get("Pod", namespace, name)
    if pod is not None:
        peer = Peer.pod(pod)
        return (Endpoint(peer=peer, port=_pod_port(peer, port, protocol)),)
    service = evidence.get("Service", namespace, name)
    if service is None:
        raise errors.InputError(
            f"peer {text!r}: no Pod or Service {name!r} in namespace {namespace!r}"
        )
    if source:
        backing = services.selected_pods(service, evidence.kind("Pod"))
        if not backing:
            raise errors.InputError(f"{objects.ref(service)} selects no pod in the evidence")
        return tuple(
            Endpoint(peer=Peer.pod(p), port=None) for p in sorted(backing, key=objects.name)
        )
    return _service_endpoints(evidence, service, port, protocol)


def port_on(peer: Peer, port: int | str, protocol: str) -> int | None:
    """A port number on `peer`: numbers as they are, names looked up in its containers."""
    port = services.port_number(port)
    if isinstance(port, int):
        return port
    if peer.kind != "pod" or peer.obj is None:
        return None
    return services.container_port(peer.obj, port, protocol)


def _pod_port(peer: Peer, port: int | str | None, protocol: str) -> int | str | None:
    if port is None or isinstance(port, int):
        return port
    return port_on(peer, port, protocol) or port


def _by_ip(evidence: evidence_model.Evidence, text: str) -> Peer:
    peer = Peer.ip(text)
    for pod in evidence.kind("Pod"):
        status = objects.status(pod)
        if status.get("podIP") == peer.address and not pods.pod_spec(pod).get("hostNetwork"):
            return Peer.pod(pod)
    return peer


def _service_endpoints(
    evidence: evidence_model.Evidence,
    service: Mapping[str, Any],
    port: int | str | None,
    protocol: str,
) -> tuple[Endpoint, ...]:
    svc_port = services.find_port(service, port, protocol=protocol)
    ref = objects.ref(service)
    if svc_port is None:
        raise errors.InputError(
            f"{ref}: no {protocol} port {port if port is not None else '(unspecified)'} "
            f"(ports: {services.describe_ports(service)})"
        )
    target = services.target_port(svc_port)
    via = f"{ref} port {svc_port.get('port')} -> targetPort {target}"
    if not objects.spec(service).get("selector"):
        ready, _ = services.endpoint_addresses(
            service, evidence.kind("Endpoints"), evidence.kind("EndpointSlice")
        )
        if not ready or not isinstance(target, int):
            raise errors.InputError(
                f"{ref} has no selector and no usable endpoint addresses in the evidence"
            )
        return tuple(Endpoint(peer=_by_ip(evidence, ip), port=target, via=via) for ip in ready)
    backing = services.selected_pods(service, evidence.kind("Pod"))
    if not backing:
        raise errors.InputError(f"{ref} selects no pod in the evidence")
    found = []
    for pod in sorted(backing, key=objects.name):
        peer = Peer.pod(pod)
        number = services.container_port(pod, target, protocol)
        found.append(Endpoint(peer=peer, port=number if number is not None else target, via=via))
    return tuple(found)
