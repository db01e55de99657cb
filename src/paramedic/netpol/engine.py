"""The engine's public API for single flows: `check_flow` and `dns_egress`.

    check_flow(evidence, src, dst, port, protocol="TCP", semantics=DEFAULT) -> FlowResult
    dns_egress(evidence, pod) -> tuple[FlowResult, ...]   # UDP and TCP 53 to every kube-dns pod

Both are pure and cheap after the first call on an Evidence (the parsed view is cached).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic import errors
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, selectors, services
from paramedic.netpol import cluster, explain, model, peers
from paramedic.netpol.layers import cni as cni_detection

DEFAULT = model.DEFAULT
DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}
DNS_PORT = 53


def check_flow(
    evidence: evidence_model.Evidence,
    src: peers.Peer,
    dst: peers.Peer,
    port: int | str,
    protocol: str = "TCP",
    semantics: model.Semantics = DEFAULT,
) -> model.FlowResult:
    """Whether `src` may open a connection to `dst` on `port`, explained per direction.

    A named `port` is resolved against the destination pod's container ports of the same
    protocol; InputError when it does not define it (there is no flow to judge).
    """
    protocol = normalize_protocol(protocol)
    number = peers.port_on(dst, port, protocol) if isinstance(port, str) else port
    if number is None:
        raise errors.InputError(f"{dst.describe()} defines no {protocol} port named {port!r}")
    if not 0 < number <= 65535:
        raise errors.InputError(f"port {number} is out of range (1-65535)")
    return explain.flow(cluster.of(evidence), src, dst, number, protocol, semantics)


def semantics_for(
    evidence: evidence_model.Evidence, cni: str = "auto"
) -> tuple[model.Semantics, str]:
    """The semantics for `--cni` (auto: detected from the evidence), and why that CNI."""
    if cni == "auto":
        name, why = cni_detection.detect(cluster.of(evidence))
        return model.BY_NAME[name], f"{name} (detected: {why})"
    if cni not in model.BY_NAME:
        raise errors.InputError(f"--cni {cni!r}: expected auto, {', '.join(model.BY_NAME)}")
    return model.BY_NAME[cni], f"{cni} (as given by --cni)"


def normalize_protocol(protocol: str) -> str:
    value = (protocol or "TCP").upper()
    if value not in model.PROTOCOLS:
        raise errors.InputError(f"protocol {protocol!r}: expected TCP, UDP or SCTP")
    return value


def dns_egress(
    evidence: evidence_model.Evidence,
    pod: peers.Peer | Mapping[str, Any],
    semantics: model.Semantics = DEFAULT,
) -> tuple[model.FlowResult, ...]:
    """UDP and TCP 53 from `pod` to each kube-dns pod (one result per pod and protocol).

    Without kube-dns pods in the evidence, both protocols are evaluated against a synthetic
    pod in kube-system labelled k8s-app=kube-dns (what every distribution runs).
    """
    src = pod if isinstance(pod, peers.Peer) else peers.Peer.pod(pod)
    targets = dns_pods(evidence)
    results = []
    for dst in targets:
        for protocol in ("UDP", "TCP"):
            number = _dns_port(evidence, dst, protocol)
            results.append(
                explain.flow(cluster.of(evidence), src, dst, number, protocol, semantics)
            )
    return tuple(results)


def dns_blocked(evidence: evidence_model.Evidence, pod: peers.Peer | Mapping[str, Any]) -> bool:
    """Whether egress policy denies DNS (UDP or TCP 53) from `pod` to any kube-dns pod."""
    return any(not r.egress.allowed for r in dns_egress(evidence, pod))


def dns_pods(evidence: evidence_model.Evidence) -> tuple[peers.Peer, ...]:
    """kube-dns pods: those the kube-system/kube-dns Service selects, else k8s-app=kube-dns."""
    service = evidence.get("Service", DNS_NAMESPACE, "kube-dns")
    found: Sequence[Mapping[str, Any]] = []
    if service is not None:
        found = services.selected_pods(service, evidence.kind("Pod", DNS_NAMESPACE))
    if not found:
        found = [
            p
            for p in evidence.kind("Pod", DNS_NAMESPACE)
            if selectors.map_matches(DNS_LABELS, objects.labels(p))
        ]
    if found:
        return tuple(peers.Peer.pod(p) for p in sorted(found, key=objects.name))
    return (
        peers.Peer.synthetic(
            DNS_NAMESPACE,
            "kube-dns",
            DNS_LABELS,
            note="no kube-dns pod in the evidence; k8s-app=kube-dns assumed",
        ),
    )


def _dns_port(evidence: evidence_model.Evidence, dst: peers.Peer, protocol: str) -> int:
    """The pod port behind kube-dns:53 for `protocol` (53 unless the Service says otherwise)."""
    service = evidence.get("Service", DNS_NAMESPACE, "kube-dns")
    if service is None or dst.obj is None:
        return DNS_PORT
    sp = services.find_port(service, DNS_PORT, protocol=protocol)
    if sp is None:
        return DNS_PORT
    return services.container_port(dst.obj, services.target_port(sp), protocol) or DNS_PORT
