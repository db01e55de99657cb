"""How a fix names what it opens: the narrowest selector for a peer's pods (its workload's
selector, else its labels minus the generated ones such as pod-template-hash), the peer entry
(namespace by `kubernetes.io/metadata.name` AND that selector, or an ipBlock /32 or /128 for an
address), the destination's port name, and a free, valid name for a new object of any layer.

Every fix that writes a NetworkPolicy (netpol.patch, netpol.dns_fix) builds it from these, so a
rule reads the same whichever cause it fixes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, selectors
from paramedic.netpol import cluster, matching, model, peers

GENERATED_LABELS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "pod-template-generation",
        "controller-uid",
        "batch.kubernetes.io/controller-uid",
        "job-name",
        "batch.kubernetes.io/job-name",
    }
)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def identity(
    evidence: evidence_model.Evidence, peer: peers.Peer
) -> tuple[dict[str, Any], str, str]:
    """(selector, short name, note) naming `peer`'s pods as narrowly as their labels allow."""
    if peer.kind != "pod":
        return {}, str(peer.address).replace(":", "-").replace(".", "-"), ""
    owner: Mapping[str, Any] | None = None
    if peer.obj is not None and peer.obj.get("kind") != "Pod":
        owner = peer.obj
    elif peer.obj is not None:
        ns = peer.namespace
        workloads = [w for kind in WORKLOAD_KINDS for w in evidence.kind(kind, ns)]
        owner = pods.owner_workload(peer.obj, workloads, evidence.kind("ReplicaSet", ns))
    if owner is not None:
        raw = objects.as_dict(objects.spec(owner).get("selector"))
        selector = _strip_generated(raw)
        if selector and selectors.matches(selector, peer.labels):
            return selector, objects.name(owner), ""
    labels = {k: v for k, v in sorted(peer.labels.items()) if k not in GENERATED_LABELS}
    name = _base_name(peer, owner)
    if not labels:
        return (
            {},
            name,
            f"{peer.describe()} has no identifying labels: "
            "the rule names every pod in its namespace",
        )
    return {"matchLabels": labels}, name, ""


def policy_object(
    ns: str, name: str, selector: dict[str, Any], direction: model.Direction, rule: dict[str, Any]
) -> dict[str, Any]:
    field = "egress" if direction is model.Direction.EGRESS else "ingress"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "podSelector": copy.deepcopy(selector),
            "policyTypes": ["Egress" if field == "egress" else "Ingress"],
            field: [rule],
        },
    }


def peer_entry(peer: peers.Peer, selector: dict[str, Any]) -> dict[str, Any]:
    if peer.kind == "ip" or not peer.selectable:
        address = str(peer.network_ip)
        return {"ipBlock": {"cidr": f"{address}/{128 if ':' in address else 32}"}}
    return {
        "namespaceSelector": {"matchLabels": {cluster.NAME_LABEL: peer.namespace}},
        "podSelector": copy.deepcopy(selector),
    }


def port_name(dst: peers.Peer, port: int, protocol: str) -> str | None:
    """The destination's name for container port `port`/`protocol`, if it defines one."""
    if not dst.selectable or dst.obj is None:
        return None
    for container in pods.containers(dst.obj):
        for cp in objects.as_list(container.get("ports")):
            if (
                isinstance(cp, dict)
                and cp.get("containerPort") == port
                and cp.get("name")
                and (cp.get("protocol") or "TCP") == protocol
            ):
                name = str(cp["name"])
                return name if matching.named_port(dst, name, protocol) == port else None
    return None


def _strip_generated(selector: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    labels = {
        k: v
        for k, v in objects.as_dict(selector.get("matchLabels")).items()
        if k not in GENERATED_LABELS
    }
    if labels:
        out["matchLabels"] = labels
    exprs = [
        e
        for e in objects.as_list(selector.get("matchExpressions"))
        if isinstance(e, dict) and e.get("key") not in GENERATED_LABELS
    ]
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _base_name(peer: peers.Peer, owner: Mapping[str, Any] | None) -> str:
    if owner is not None:
        return objects.name(owner)
    for key in ("app.kubernetes.io/name", "app", "k8s-app"):
        if peer.labels.get(key):
            return peer.labels[key]
    return peer.name


def free_name(evidence: evidence_model.Evidence, ns: str, base: str, side: str, both: bool) -> str:
    name = dns_name(f"{base}-{side}") if both else base
    if evidence.get("NetworkPolicy", ns, name) is None:
        return name
    return unused_name(evidence, "NetworkPolicy", ns, dns_name(f"{base}-{side}"))


def unused_name(evidence: evidence_model.Evidence, kind: str, ns: str, name: str) -> str:
    """`name`, else `name-2`, `name-3`, ...: the first name that no `kind` object in `ns` (empty
    for a cluster-scoped kind) has, within the 63 characters a name may have. `name` is valid
    for its kind already (a Calico name keeps its `tier.` prefix)."""
    candidate, suffix = name[:63], 2
    while evidence.get(kind, ns, candidate) is not None:
        candidate = f"{name[: 62 - len(str(suffix))]}-{suffix}"
        suffix += 1
    return candidate


def dns_name(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    return cleaned[:63].rstrip("-") or "allow-flow"
