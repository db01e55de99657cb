"""Check `connection-pool`: has PostgreSQL run out of connection slots, and who holds them?

Package layout (the same in every check): `facts` reads the server's limits and each client's
pool demand from the objects, `fixes` does the arithmetic and writes the exact fix, `detect`
turns the evidence into one finding; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.connection_pool import detect
from paramedic.evidence import needs

FORMULA = detect.FORMULA


@registry.check(
    "connection-pool",
    title="PostgreSQL has free connection slots",
    needs=(
        # every client of the database, in whatever namespace, and its autoscaler's maximum
        needs.Need("Deployment", needs.Scope.CLUSTER),
        needs.Need("StatefulSet", needs.Scope.CLUSTER),
        needs.Need("HorizontalPodAutoscaler", needs.Scope.CLUSTER),
        needs.Need("DaemonSet", needs.Scope.CLUSTER, optional=True),
        needs.Need("CronJob", needs.Scope.CLUSTER, optional=True),
        needs.Need("Service", needs.Scope.CLUSTER, optional=True),  # $(VAR) service links
        needs.Need("ReplicaSet", optional=True),
        needs.Need("Namespace", needs.Scope.CLUSTER, optional=True),  # where short names land
        # settings the clients and the server keep in ConfigMaps (envFrom, configMapKeyRef,
        # postgresql.conf), in the two namespaces; a client elsewhere counts by its literal env
        needs.Need("ConfigMap", needs.Scope.NAMESPACES, optional=True),
        # SQLSTATE 53300 shows in the server's log, the clients' logs, or a postgres probe
        needs.Need.logs(
            needs.Scope.TARGET,
            instead=(needs.Need.logs(needs.Scope.SOURCE), needs.Need.probe("postgres")),
        ),
        needs.Need.logs(needs.Scope.SOURCE, optional=True),
        needs.Need.probe("postgres"),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    seen = detect.observe(ctx)
    return (
        detect.overload(ctx.scope, seen)
        or detect.undecided(ctx.scope, seen)
        or detect.fits(ctx.scope, seen)
    )
