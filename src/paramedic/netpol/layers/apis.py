"""The policy APIs live gathering asks for beyond networking.k8s.io NetworkPolicy: those a
layer evaluates and those the safety net must see to say *inconclusive* (layers/unmodelled.py).

Each is CRD-backed, so the cluster may not serve it: gathering lists it only when the one
discovery request shows its group/version (evidence.needs `discover`). Cluster-scoped kinds are
listed cluster-wide, namespaced ones in the source and target namespaces (Istio's in every
namespace: `all_namespaces`).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class PolicyApi:
    kind: str
    api: str
    """group/version"""
    plural: str
    cluster_scoped: bool
    all_namespaces: bool = False
    """Namespaced, but listed in every namespace: Istio's mesh-wide policies live in the mesh's
    root namespace (istio-system by default), neither the source's nor the target's."""


POLICY_APIS = (
    PolicyApi(
        "AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", "adminnetworkpolicies", True
    ),
    PolicyApi(
        "BaselineAdminNetworkPolicy",
        "policy.networking.k8s.io/v1alpha1",
        "baselineadminnetworkpolicies",
        True,
    ),
    PolicyApi(
        "ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2", "clusternetworkpolicies", True
    ),
    PolicyApi("CiliumNetworkPolicy", "cilium.io/v2", "ciliumnetworkpolicies", False),
    PolicyApi(
        "CiliumClusterwideNetworkPolicy", "cilium.io/v2", "ciliumclusterwidenetworkpolicies", True
    ),
    # the address sets Cilium's CIDR rules may name (cidrGroupRef / cidrGroupSelector)
    PolicyApi("CiliumCIDRGroup", "cilium.io/v2alpha1", "ciliumcidrgroups", True),
    PolicyApi(
        "AuthorizationPolicy", "security.istio.io/v1", "authorizationpolicies", False, True
    ),
    PolicyApi("PeerAuthentication", "security.istio.io/v1", "peerauthentications", False, True),
    PolicyApi("EgressFirewall", "k8s.ovn.org/v1", "egressfirewalls", False),
    PolicyApi(
        "SecurityGroupPolicy", "vpcresources.k8s.aws/v1beta1", "securitygrouppolicies", False
    ),
)
