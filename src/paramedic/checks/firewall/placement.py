"""Where the two ends of the incident sit: the nodes that run client pods, the node of the database
pod, and their addresses, as the cloud's rules see them.

A pod's traffic to an address outside the cluster leaves with its node's address (or, to the
internet, with the NAT gateway's); between nodes, an overlay's packets carry the node addresses
too. So the cloud rules are evaluated between node InternalIPs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    name: str
    address: str
    pods: tuple[str, ...]
    """The incident's pods on it ('app/user-service-7d9f8b6c5d-k8mzp')."""


def nodes_of(ev: evidence_model.Evidence, pods: Iterable[Mapping[str, Any]]) -> list[Node]:
    """The nodes running `pods`, in name order, each with its InternalIP (or the pod's hostIP)."""
    by_node: dict[str, list[str]] = {}
    host_ips: dict[str, str] = {}
    for pod in pods:
        node = str(objects.spec(pod).get("nodeName") or "")
        if node:
            by_node.setdefault(node, []).append(f"{objects.namespace(pod)}/{objects.name(pod)}")
            host_ip = objects.status(pod).get("hostIP")
            if isinstance(host_ip, str) and host_ip:
                host_ips.setdefault(node, host_ip)
    out = []
    for name in sorted(by_node):
        address = internal_ip(ev.get("Node", None, name)) or host_ips.get(name, "")
        if address:
            out.append(Node(name=name, address=address, pods=tuple(by_node[name])))
    return out


def internal_ip(node: Mapping[str, Any] | None) -> str:
    if node is None:
        return ""
    for a in objects.as_list(objects.status(node).get("addresses")):
        if isinstance(a, dict) and a.get("type") == "InternalIP" and a.get("address"):
            return str(a["address"])
    return ""


def pod_ip(pod: Mapping[str, Any]) -> str:
    return str(objects.status(pod).get("podIP") or "")


def label(scope_source: str, target: str) -> str:
    """A name for new rules: 'user-service-to-profile-db'."""
    left = scope_source.split()[-1].rsplit("/", 1)[-1]
    right = target.split()[-1].rsplit("/", 1)[-1].split(".")[0].split(":")[0]
    return f"{left}-to-{right}"


_READ = {
    "aws": "paramedic diagnose ... --cloud aws, or save aws ec2 describe-security-groups, "
    "describe-network-interfaces and describe-network-acls --output json in cloud/aws/",
    "gce": "gcloud compute firewall-rules list --format=json > cloud/gcp/firewall.json; "
    "gcloud compute instances list --format=json > cloud/gcp/instances.json",
    "azure": "az network nsg list -o json > cloud/azure/nsg.json; "
    "az network nic list -o json > cloud/azure/nic.json",
}


def how_to_read(ev: evidence_model.Evidence) -> str:
    """The commands that save the cloud rules of the cluster's provider (from the nodes'
    providerID) into the bundle; all three when it is not known."""
    providers = {str(objects.spec(n).get("providerID", "")).split(":")[0] for n in ev.kind("Node")}
    known = [_READ[p] for p in ("aws", "gce", "azure") if p in providers]
    return " | ".join(known or _READ.values())
