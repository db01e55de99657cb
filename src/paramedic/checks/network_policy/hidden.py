"""Policy objects the evidence could not show the network-policy check, and the exact command
that shows each: a gap about a policy kind (403 on a list, API discovery failing) means the
flow's answer rests on less than every policy that applies, so the check never rules out past
it (docs/DESIGN.md: "ruled out" only from evidence present and examined).

Gaps name policy kinds by key (evidence.needs.Need.key): the bare 'NetworkPolicy' is
networking.k8s.io's; every other policy kind carries its API group, so the command names the
resource with its group (`kubectl get networkpolicies.projectcalico.org`): a bare
`kubectl get networkpolicy` would never show Calico's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods
from paramedic.netpol.calico import view
from paramedic.netpol.layers import apis, cni

ETCD = "calico:etcd"
"""The gap kind of Calico policies kept in etcd, where no Kubernetes API shows them."""
_CALICOCTL = (
    "calicoctl get tiers -o yaml; calicoctl get globalnetworkpolicies -o yaml; "
    "calicoctl get networkpolicies --all-namespaces -o yaml"
)

_RESOURCES = {
    "NetworkPolicy": ("networkpolicies", False),
    **{
        a.key: (f"{a.plural}.{a.api.rpartition('/')[0]}", a.cluster_scoped)
        for a in apis.POLICY_APIS
    },
}
KEYS = tuple(_RESOURCES)
"""Every policy key a gap may hide: Kubernetes NetworkPolicy and each of apis.POLICY_APIS."""


def gaps(
    evidence: evidence_model.Evidence, namespaces: Iterable[str]
) -> tuple[evidence_model.Gap, ...]:
    """The gaps that hide policy objects of the flows' namespaces (or cluster-wide ones)."""
    spaces = set(namespaces)
    return tuple(g for key in KEYS for g in evidence.gaps_about(key, spaces))


def etcd_datastore(evidence: evidence_model.Evidence) -> tuple[evidence_model.Gap, ...]:
    """A gap when Calico's agent reads its policies from etcd (its DaemonSet sets
    ETCD_ENDPOINTS, or DATASTORE_TYPE=etcdv3) and the evidence holds no Calico object: such
    policies are in no Kubernetes API, only `calicoctl` (configured for etcd) shows them."""
    if view.calico_objects(evidence):
        return ()
    for daemon_set in evidence.kind("DaemonSet"):
        if objects.name(daemon_set) not in cni.AGENTS["calico"]:
            continue
        if any(_etcd(e) for e in _env(daemon_set)):
            where = f"{objects.namespace(daemon_set)}/{objects.name(daemon_set)}"
            reason = (
                f"Calico keeps its policies in etcd (DaemonSet {where} is configured for an "
                "etcd datastore): the Kubernetes API does not show them"
            )
            return (evidence_model.Gap(ETCD, "", reason),)
    return ()


def _env(daemon_set: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = pods.pod_spec(daemon_set)
    containers = [
        *objects.as_list(spec.get("containers")),
        *objects.as_list(spec.get("initContainers")),
    ]
    return [
        e
        for c in containers
        for e in objects.as_list(objects.as_dict(c).get("env"))
        if isinstance(e, dict)
    ]


def _etcd(env: Mapping[str, Any]) -> bool:
    return env.get("name") == "ETCD_ENDPOINTS" or (
        env.get("name") == "DATASTORE_TYPE" and env.get("value") == "etcdv3"
    )


def commands(hidden: Iterable[evidence_model.Gap]) -> str:
    """'kubectl get ... -o yaml' for each hidden kind and namespace, once each, joined by '; '
    (`calicoctl get ...` for Calico policies in etcd)."""
    found: dict[str, None] = {}
    for gap in hidden:
        if gap.kind == ETCD:
            found[_CALICOCTL] = None
            continue
        resource, cluster_scoped = _RESOURCES.get(gap.kind, (gap.kind.lower(), False))
        where = (
            ""
            if cluster_scoped
            else f" -n {gap.namespace}"
            if gap.namespace
            else " --all-namespaces"
        )
        found[f"kubectl get {resource}{where} -o yaml"] = None
    return "; ".join(found)
