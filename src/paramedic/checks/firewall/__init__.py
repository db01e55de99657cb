"""Check `firewall`: is traffic to a database outside the cluster dropped on the way?

Applies when the target is outside (a Service without selector and hand-made Endpoints or
EndpointSlices, an ExternalName, or a host/IP). A firewall or cloud security group that drops
packets shows as client *timeouts* (the SYN is never answered); a refusal means something
answered. Client error texts are classified (docs/FIELD-NOTES.md) and recorded tcp probes
decide when present. The fix names the exact rule to ask for: the nodes' IPs (pod traffic leaves
with the node's address), the destination IP and the TCP port.

Package layout (the same in every check): `detect` turns the evidence into one finding and
writes the firewall rule to ask for; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.firewall import detect
from paramedic.evidence import needs


@registry.check(
    "firewall",
    title="No firewall drops traffic to a database outside the cluster",
    needs=(
        needs.Need("Service"),
        needs.Need("EndpointSlice"),
        needs.Need("Endpoints"),
        needs.Need("Node", needs.Scope.CLUSTER, optional=True),  # the rule's source addresses
        # only an outside target needs these; the detector turns their absence into
        # inconclusive itself (a target inside the cluster is out of its scope, from objects)
        needs.Need.logs(needs.Scope.SOURCE, optional=True),
        needs.Need.probe("tcp"),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    settled = detect.inside(ctx.scope)
    if settled is not None:
        return settled
    seen = detect.observe(ctx)
    return (
        detect.open_port(seen)
        or detect.policy_first(ctx.scope, seen)
        or detect.dropped(ctx, seen)
        or detect.answered(ctx, seen)
    )
