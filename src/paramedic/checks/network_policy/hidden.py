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

from collections.abc import Iterable

from paramedic.evidence import model as evidence_model
from paramedic.netpol.layers import apis

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


def commands(hidden: Iterable[evidence_model.Gap]) -> str:
    """'kubectl get ... -o yaml' for each hidden kind and namespace, once each, joined by '; '."""
    found: dict[str, None] = {}
    for gap in hidden:
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
