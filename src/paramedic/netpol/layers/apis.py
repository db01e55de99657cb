"""The policy APIs live gathering asks for beyond networking.k8s.io NetworkPolicy: those a
layer evaluates and those the safety net must see to say *inconclusive* (layers/unmodelled.py).

Each is CRD-backed, so the cluster may not serve it: gathering lists it only when the one
discovery request shows its group/version (evidence.needs `discover`). Cluster-scoped kinds are
listed cluster-wide, namespaced ones in the source and target namespaces (Istio's in every
namespace: `all_namespaces`). Calico's kinds come in two API groups; the kind alone does not
name them (Calico's NetworkPolicy is not networking.k8s.io's), so gathering keys them by kind
and group (`key`, gather.table).
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
    superseded_by: str = ""
    """A group/version serving the same objects, read instead when discovery shows it."""

    @property
    def key(self) -> str:
        """The kind qualified by its group, as gathering files it (evidence.needs.Need.key)."""
        return f"{self.kind}.{self.api.rpartition('/')[0]}"


CALICO_V3 = "projectcalico.org/v3"
CALICO_CRD = "crd.projectcalico.org/v1"
CALICO_KINDS = (
    # kind, plural, cluster-scoped: every kind the Calico layer reads (calico.resources.KINDS)
    ("Tier", "tiers", True),
    ("GlobalNetworkPolicy", "globalnetworkpolicies", True),
    ("NetworkPolicy", "networkpolicies", False),
    ("StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies", True),
    ("StagedNetworkPolicy", "stagednetworkpolicies", False),
    ("StagedKubernetesNetworkPolicy", "stagedkubernetesnetworkpolicies", False),
    ("GlobalNetworkSet", "globalnetworksets", True),
    ("NetworkSet", "networksets", False),
    ("HostEndpoint", "hostendpoints", True),
)
"""Calico's policy kinds. With Calico's API server (or its native v3 CRDs) they are served as
projectcalico.org/v3; without it only the crd.projectcalico.org/v1 CRDs that store them exist,
with the same specs. Both are often served at once (the API server keeps its objects in those
CRDs): then only v3 is read, so no policy counts twice (docs/NETPOL.md, "Calico")."""


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
    PolicyApi("AuthorizationPolicy", "security.istio.io/v1", "authorizationpolicies", False, True),
    PolicyApi("PeerAuthentication", "security.istio.io/v1", "peerauthentications", False, True),
    PolicyApi("EgressFirewall", "k8s.ovn.org/v1", "egressfirewalls", False),
    PolicyApi(
        "SecurityGroupPolicy", "vpcresources.k8s.aws/v1beta1", "securitygrouppolicies", False
    ),
    # not evaluated (netpol/layers/unmodelled.py): fetched so a diagnosis can name them
    PolicyApi("NetworkPolicy", "crd.antrea.io/v1beta1", "networkpolicies", False),
    PolicyApi("ClusterNetworkPolicy", "crd.antrea.io/v1beta1", "clusternetworkpolicies", True),
    PolicyApi("FQDNNetworkPolicy", "networking.gke.io/v1alpha3", "fqdnnetworkpolicies", False),
    *(PolicyApi(kind, CALICO_V3, plural, cluster) for kind, plural, cluster in CALICO_KINDS),
    *(
        PolicyApi(kind, CALICO_CRD, plural, cluster, superseded_by=CALICO_V3)
        for kind, plural, cluster in CALICO_KINDS
    ),
)
