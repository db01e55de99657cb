"""Check `service-endpoints`: does the target Service select ready pods on the right port?

A Service whose selector matches no pod, whose pods are all unready, or whose targetPort names
a port the pods do not have, has no usable endpoint: kube-proxy rejects connections to its
ClusterIP ("connection refused"). Reads the Service, the pods of its namespace, Endpoints and
EndpointSlices, and the pods' Events.

Package layout (the same in every check): `detect` turns the evidence into one finding, `fixes`
holds the closest-labels analysis and the exact fixes; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.service_endpoints import detect
from paramedic.evidence import needs


@registry.check(
    "service-endpoints",
    title="Service endpoints",
    needs=(
        needs.Need("Service"),
        needs.Need("Pod"),
        needs.Need("Pod", needs.Scope.TARGET),  # the closest pods when the selector matches none
        needs.Need("Pod", needs.Scope.NAMESPACES, optional=True),  # matching pods in the other
        needs.Need("StatefulSet", needs.Scope.TARGET, optional=True),  # their owner's selector
        needs.Need("Endpoints"),
        needs.Need("EndpointSlice"),
        needs.Need("Event", needs.Scope.NAMESPACES, optional=True),  # why pods are not ready
    ),
)
def run(ctx: model.Context) -> model.Finding:
    svc = ctx.scope.target_service
    if svc is None:
        return detect.outside(ctx.scope)
    settled = detect.external_name(svc) or detect.selectorless(ctx.evidence, svc)
    if settled is not None:
        return settled
    seen = detect.observe(ctx, svc)
    return (
        detect.broken(ctx.evidence, seen, ctx.scope.namespace)
        or detect.stale(seen)
        or detect.healthy(seen)
    )
