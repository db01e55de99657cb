"""Check `dns`: does the name the client uses resolve to the database, and is cluster DNS up?

Reads CoreDNS pods, the kube-dns Service and its endpoints, CoreDNS logs (loop FATAL, SERVFAIL
upstream errors), the client's configured host names (DB_HOST, *_HOST, DATABASE_URL) resolved
the way cluster DNS would (short names land in the client's own namespace), the client's
dnsPolicy, recorded dns probes, client log lines of failed resolution, and what the
network-policy check found about port 53. Fixes are exact for the cluster in the evidence.

Package layout (the same in every check): `detect` runs the detectors and makes one finding,
`fixes` describes each DNS problem with its exact fix; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.dns import detect
from paramedic.evidence import needs


@registry.check(
    "dns",
    title="Cluster DNS resolves the database name",
    needs=(
        needs.Need("Pod"),
        needs.Need("Pod", needs.Scope.DNS),
        needs.Need("Service", needs.Scope.DNS),
        needs.Need("Endpoints", needs.Scope.DNS),
        needs.Need("EndpointSlice", needs.Scope.DNS),
        needs.Need("Deployment", needs.Scope.DNS, optional=True),
        needs.Need("ConfigMap", needs.Scope.DNS, optional=True),
        needs.Need("ConfigMap", needs.Scope.REFERENCED, optional=True),
        needs.Need("Namespace", needs.Scope.CLUSTER, optional=True),  # where short names land
        # the Service a configured name lands on, in whatever namespace, and where one of that
        # name exists instead
        needs.Need("Service", needs.Scope.CLUSTER, optional=True),
        needs.Need("Node", needs.Scope.CLUSTER, optional=True),
        needs.Need.logs(needs.Scope.DNS, optional=True),
        needs.Need.logs(needs.Scope.SOURCE, optional=True),
        needs.Need.probe("dns"),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    seen = detect.observe(ctx)
    found = detect.Found()
    detect.coredns(ctx, seen, found)
    detect.port_53(ctx, seen, found)
    detect.client_policy(ctx, seen, found)
    detect.configured_names(ctx, seen, found)
    detect.recorded_probes(ctx, found)
    upstream = detect.symptoms_only(ctx, seen, found)
    return detect.conclude(ctx, seen, found, upstream)
