"""Check `network-policy`: does a NetworkPolicy block the source -> target flow, and what opens it.

Every source pod (or the workload's pod template when it has no pods) is checked against every
target pod on the pod port the Service port translates to, by the exact engine (paramedic.netpol).
A denial names the isolating policies and the exact reason per side, and the fix is the minimal
patch with its computed blast radius. External targets are checked as egress to their endpoint
IPs (or the host IP). Whether egress to kube-dns port 53 is blocked goes into
details["dns_egress_blocked"] for the `dns` check.

Package layout (the same in every check): `detect` judges every flow (`observed` holds what it
saw) and builds the blocked finding; `fixes` turns the minimal patch into paste-able steps, why
and verify; `allowed` gives the findings when no flow is denied; `hidden` and `flows` weigh
hidden policies and Hubble's recorded drops; `probes` weighs the finding against the
pod-versus-node probe contrast; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.network_policy import detect, probes
from paramedic.evidence import needs
from paramedic.netpol.layers import apis


@registry.check(
    "network-policy",
    title="A NetworkPolicy blocks the connection",
    needs=(
        needs.Need("NetworkPolicy", needs.Scope.NAMESPACES),
        needs.Need("Pod"),
        needs.Need("Namespace", needs.Scope.CLUSTER),
        needs.Need("Node", needs.Scope.CLUSTER),  # node labels: admin policies' `nodes` peers
        needs.Need("DaemonSet", needs.Scope.CNI),  # the CNI's agent (--cni auto)
        needs.Need("ConfigMap", needs.Scope.CNI, optional=True),  # cilium-config: deny response
        # ServiceAccount labels: what Calico's serviceAccountSelector matches
        needs.Need("ServiceAccount", needs.Scope.NAMESPACES, api="v1", optional=True),
        needs.Need.logs(needs.Scope.SOURCE, optional=True),  # 'No route to host' when it answers
        needs.Need.probe("tcp"),  # the pod-versus-node contrast of --probe-pod (probes.py)
        *(
            needs.Need(
                a.kind,
                needs.Scope.CLUSTER
                if a.cluster_scoped or a.all_namespaces
                else needs.Scope.NAMESPACES,
                api=a.api,
                plural=a.plural,
                discover=True,
                superseded_by=a.superseded_by,
            )
            for a in apis.POLICY_APIS
        ),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    seen = detect.observe(ctx)
    if isinstance(seen, model.Finding):
        return probes.with_contrast(ctx, seen)
    return probes.with_contrast(ctx, detect.verdict(ctx, seen))
