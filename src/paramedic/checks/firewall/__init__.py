"""Check `firewall`: is traffic to a database outside the cluster dropped on the way?

For a target outside the cluster (a Service without selector and hand-made Endpoints or
EndpointSlices, an ExternalName, or a host/IP): a firewall or cloud security group that drops
packets shows as client *timeouts* (the SYN is never answered); a refusal means something
answered. Client error texts are classified (docs/FAILURE-FACTS.md), recorded tcp probes decide
when present, and the cloud's own rules (docs/CLOUD.md) name the rule that drops the flow and
the exact command that opens it. For a target inside the cluster: the path between the nodes,
for what the CNI's data path needs.

Package layout (the same in every check): `detect` reads the path to an outside target and
decides from timeouts and probes; `rules` evaluates the cloud rules for it; `nodes` is the
in-cluster path between nodes; `placement` finds the nodes and their addresses; `fixes` turns
cloud commands into fix steps; this module registers the check.
"""

from __future__ import annotations

import dataclasses

from paramedic.checks import model, registry
from paramedic.checks.firewall import detect, nodes, rules
from paramedic.evidence import needs
from paramedic.kube import datapath


@registry.check(
    "firewall",
    title="No firewall drops traffic to a database outside the cluster",
    needs=(
        needs.Need("Service"),
        needs.Need("EndpointSlice"),
        needs.Need("Endpoints"),
        needs.Need("Node", needs.Scope.CLUSTER, optional=True),  # the rule's source addresses
        needs.Need("Pod", optional=True),  # which nodes the clients and the database run on
        # the CNI's DaemonSet and ConfigMaps where installs put them (kube-system, calico-system,
        # kube-flannel) and Calico's pools say its data path between nodes; the detector says
        # inconclusive itself when they are missing
        needs.Need("DaemonSet", needs.Scope.CNI, optional=True),
        needs.Need("ConfigMap", needs.Scope.CNI, optional=True),
        *(
            needs.Need(
                kind,
                needs.Scope.CLUSTER,
                api=api,
                optional=True,
                discover=True,
                superseded_by=newer,
            )
            for kind, api, newer in (
                *((k, datapath.CALICO_V3, "") for k in datapath.CALICO_KINDS),
                *((k, datapath.CALICO_CRD, datapath.CALICO_V3) for k in datapath.CALICO_KINDS),
                *((k, datapath.OPERATOR, "") for k in datapath.OPERATOR_KINDS),
            )
        ),
        needs.Need.logs(needs.Scope.SOURCE, optional=True),
        needs.Need.probe("tcp"),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    if not ctx.scope.external:
        return nodes.between(ctx)
    seen = detect.observe(ctx)
    settled = (
        detect.node_connects(seen) or detect.open_port(seen) or detect.policy_first(ctx.scope, seen)
    )
    if settled is not None:
        return settled
    test = detect.connect_test(ctx.scope, seen.dest, seen.port)
    read = rules.outside(ctx, seen.addresses, seen.port, test)
    if read.finding is not None:
        return dataclasses.replace(read.finding, evidence=seen.cites + read.finding.evidence)
    seen = dataclasses.replace(seen, cites=seen.cites + read.cites)
    return detect.dropped(ctx, seen) or detect.answered(ctx, seen)
