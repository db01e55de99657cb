"""The safety net: enforcement objects in the evidence that no active layer evaluates.

Each is reported with why it matters and the command that shows it, so a diagnosis says
*inconclusive* (never *ruled out*) for a flow such an object could block. The table lists the
policy APIs known to drop or reset connections; a layer that evaluates one of these kinds
declares it in `Layer.kinds` and it leaves this list by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects
from paramedic.netpol import cluster, form

ANY = "*"
ENFORCEMENT: Mapping[tuple[str, str], str] = {
    ("networking.k8s.io", "NetworkPolicy"): "a Kubernetes NetworkPolicy",
    ("policy.networking.k8s.io", "AdminNetworkPolicy"): "an admin-tier policy",
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy"): "a baseline-tier policy",
    ("policy.networking.k8s.io", "ClusterNetworkPolicy"): "an admin/baseline-tier policy",
    ("projectcalico.org", ANY): "a Calico policy (Calico tiers are not evaluated here)",
    ("crd.projectcalico.org", ANY): "a Calico policy (Calico tiers are not evaluated here)",
    ("cilium.io", ANY): "a Cilium policy (deny rules, entities, L7 and FQDN rules)",
    ("security.istio.io", ANY): "an Istio policy (authorization or mTLS closes the connection)",
    ("crd.antrea.io", ANY): "an Antrea policy (tiers with Drop/Reject rules)",
    ("k8s.ovn.org", "EgressFirewall"): "an OVN-Kubernetes egress firewall",
    ("vpcresources.k8s.aws", "SecurityGroupPolicy"): "AWS security groups for pods",
    ("networking.gke.io", "FQDNNetworkPolicy"): "a GKE FQDN network policy",
    ("policy.linkerd.io", ANY): "a Linkerd authorization policy",
}
"""(API group, kind) -> what it is. ANY: every kind of that group that enforces policy."""
NOT_POLICY_KINDS = frozenset(
    {
        "IPPool",
        "IPAMBlock",
        "BlockAffinity",
        "FelixConfiguration",
        "BGPConfiguration",
        "BGPPeer",
        "ClusterInformation",
        "IPAMHandle",
        "IPAMConfig",
        "KubeControllersConfiguration",
        "CiliumNode",
        "CiliumIdentity",
        "CiliumEndpoint",
        "CiliumEndpointSlice",
        "CiliumLoadBalancerIPPool",
        "CiliumBGPPeeringPolicy",
        "CiliumExternalWorkload",
        "Tier",
        "NetworkSet",
        "GlobalNetworkSet",
        "CiliumCIDRGroup",
        "HostEndpoint",
        "RequestAuthentication",  # Istio: validates JWTs on HTTP requests, never a TCP connection
    }
)
"""Kinds of those groups that carry no rule themselves (address pools, identities, sets)."""


def group_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("apiVersion") or "").rpartition("/")[0]


def why(group: str, kind: str) -> str | None:
    """What a (group, kind) is if it is an enforcement object, else None."""
    if kind in NOT_POLICY_KINDS:
        return None
    return ENFORCEMENT.get((group, kind)) or ENFORCEMENT.get((group, ANY))


def scan(view: cluster.Cluster, modelled: frozenset[tuple[str, str]]) -> list[form.Unmodelled]:
    if view.evidence is None:
        return []
    found = []
    for kind in view.evidence.index.by_kind:
        for obj in view.evidence.kind(kind):
            group = group_of(obj)
            what = why(group, kind)
            if what is None or (group, kind) in modelled:
                continue
            namespace = objects.namespace(obj)
            resource = form.resource(kind, group)
            where = f" -n {namespace}" if namespace else ""
            found.append(
                form.Unmodelled(
                    kind=kind,
                    api_version=str(obj.get("apiVersion") or ""),
                    namespace=namespace,
                    name=objects.name(obj),
                    why=f"{what}; paramedic does not evaluate {kind} ({group}) under this CNI, "
                    "so it could still block the flow",
                    command=f"kubectl get {resource} {objects.name(obj)}{where} -o yaml",
                )
            )
    return sorted(found, key=lambda u: (u.kind, u.namespace, u.name))
