"""Check `resources`: are the database pods OOM-killed, evicted, starved, or on a node under
pressure?

A memory limit is enforced by the kernel's OOM killer (exit 137); when a PostgreSQL backend is
killed the postmaster ends every session and runs crash recovery, so clients see resets and
"the database system is in recovery mode". A CPU limit is enforced by throttling: slow queries,
timeouts. Evidence: containerStatuses, PodMetrics, Node conditions, PostgreSQL logs.

Package layout (the same in every check): `facts` reads each pod's signals and sizes a resize,
`fixes` writes `kubectl set resources` with those numbers, `detect` turns the evidence into one
finding; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.resources import detect
from paramedic.evidence import needs


@registry.check(
    "resources",
    title="Database resources",
    needs=(
        needs.Need("Pod"),
        needs.Need("Node", needs.Scope.CLUSTER),
        needs.Need("StatefulSet", optional=True),
        needs.Need("Deployment", optional=True),
        needs.Need("DaemonSet", optional=True),  # the owner whose resources the fix sets
        needs.Need("ReplicaSet", optional=True),
        # OOM kills and evictions are in the pods' status; usage and log lines add detail
        needs.Need.metrics(needs.Scope.TARGET, optional=True),
        needs.Need.logs(needs.Scope.TARGET, optional=True),
        needs.Need.logs(needs.Scope.SOURCE, optional=True),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    if not ctx.scope.target_pods:
        return detect.no_pods(ctx.scope)
    seen = detect.observe(ctx)
    return (
        detect.oom_killed(seen)
        or detect.evicted(seen)
        or detect.throttled(seen)
        or detect.warning_signs(seen)
        or detect.healthy(seen)
    )
