"""Check `credentials`: is the client's database credential present, current and accepted?

Three ways it breaks (docs/FAILURE-FACTS.md): the workload references a Secret or key that does
not exist (pods stuck in CreateContainerConfigError); the Secret changed after the pods started
(env vars and subPath mounts keep the old value until a restart); or PostgreSQL rejects the
password or has no pg_hba.conf line for the client (log lines of client and server, recorded
postgres probes). Secrets are shown as key names and digests only.

Package layout (the same in every check): `facts` reads what the objects say (references,
Secret change times), `fixes` writes the exact remedy, `detect` turns the evidence into one
finding; this module registers the check.
"""

from __future__ import annotations

from paramedic.checks import model, registry
from paramedic.checks.credentials import detect
from paramedic.evidence import needs


@registry.check(
    "credentials",
    title="Database credentials",
    needs=(
        needs.Need("Secret", needs.Scope.REFERENCED),
        needs.Need("Pod"),
        needs.Need("Event", needs.Scope.NAMESPACES, optional=True),
        needs.Need("Deployment", optional=True),
        needs.Need("ReplicaSet", optional=True),
        # envFrom next to Secrets; the namespace's ConfigMaps say whether a missing one exists
        # under a near name
        needs.Need("ConfigMap", needs.Scope.NAMESPACES, optional=True),
        # an authentication failure shows in the client's log, or in a postgres probe
        needs.Need.logs(needs.Scope.SOURCE, instead=(needs.Need.probe("postgres"),)),
        needs.Need.logs(needs.Scope.TARGET, optional=True),
        needs.Need.probe("postgres"),
    ),
)
def run(ctx: model.Context) -> model.Finding:
    template = ctx.scope.source_template()
    if template is None:
        return detect.no_client(ctx.scope)
    seen = detect.observe(ctx, template)
    return (
        detect.missing_reference(seen)
        or detect.rejected(seen)
        or detect.stale_unseen(seen)
        or detect.unread_secrets(seen)
        or detect.all_current(seen)
    )
