"""Check `readiness-probe` (reported in `next`): probes that will fail once traffic resumes.

Looks at the readiness, liveness and startup probes of the client's containers: the 1 s default
timeout, failureThreshold 1, handlers that call the database (paths like /ready or /health/db
seen failing with DB errors in the logs, exec commands running pg_isready or psql), liveness
probes that depend on the database (a DB blip restarts every pod at once, and the reconnect
storm exhausts connections), slow starts without a startupProbe, and kubelet `Unhealthy`
events. It warns "once X is fixed, expect Y" and gives the exact probe patch.

Package layout (the same in every check): `detect` turns the evidence into one finding and
writes the probe patches; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.readiness_probe import detect
from paramedic.evidence import needs


@registry.check(
    "readiness-probe",
    title="Probes survive a slow or recovering database",
    needs=(
        needs.Need("Deployment"),
        needs.Need("StatefulSet", optional=True),
        needs.Need("DaemonSet", optional=True),
        needs.Need("ReplicaSet", optional=True),
        needs.Need("Pod"),
        needs.Need("Event", needs.Scope.NAMESPACES, optional=True),
        needs.Need.logs(needs.Scope.SOURCE, optional=True),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    template = ctx.scope.source_template()
    if template is None:
        return detect.no_client(ctx.scope)
    return detect.fragile(ctx, detect.observe(ctx, template))
