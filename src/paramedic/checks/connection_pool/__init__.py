"""Check `connection-pool`: has PostgreSQL run out of connection slots, and who holds them?

Package layout (the same in every check): `facts` reads the server's limits and each client's
pool demand from the objects, `fixes` does the arithmetic and writes the exact fix, `detect`
turns the evidence into one finding; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.connection_pool import detect

FORMULA = detect.FORMULA


@registry.check(
    "connection-pool",
    title="PostgreSQL has free connection slots",
    needs=(
        "Deployment",
        "StatefulSet",
        "HorizontalPodAutoscaler",
        "ConfigMap",
        "logs",
        "probes:postgres",
    ),
)
def run(ctx: model.Context) -> model.Finding:
    seen = detect.observe(ctx)
    return (
        detect.overload(ctx.scope, seen)
        or detect.undecided(ctx.scope, seen)
        or detect.fits(ctx.scope, seen)
    )
