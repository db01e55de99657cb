"""`paramedic rbac`: the Kubernetes RBAC paramedic needs, printed for `kubectl apply -f -`.

An installed paramedic has no deploy/ directory; this prints the same ClusterRole (the files
ship inside the package) and binds it, and the optional Roles, to whoever is named."""

from __future__ import annotations

import click

_EPILOG = """\b
Examples (an admin applies what is printed; nothing is sent to the cluster here):
  me=$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')
  paramedic rbac --user "$me" | kubectl apply -f -
  paramedic rbac --group oncall --secret app/profile-db-credentials --probe-pod app \\
    | kubectl apply -f -
  paramedic rbac --service-account paramedic/paramedic --db-probe data | kubectl apply -f -
"""


@click.command(epilog=_EPILOG)
@click.option("--user", "users", multiple=True, metavar="NAME", help="Bind a user (repeatable).")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="Bind a group (repeatable).")
@click.option(
    "--service-account",
    "service_accounts",
    multiple=True,
    metavar="NS/NAME",
    help="Bind a ServiceAccount, for paramedic running in the cluster (repeatable).",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="NS/NAME",
    help="Let the credentials check get this Secret, by name only (repeatable).",
)
@click.option(
    "--probe-pod",
    "probe_pods",
    multiple=True,
    metavar="NAMESPACE",
    help="Allow --probe-pod's short-lived pods in this namespace, the source's (repeatable).",
)
@click.option(
    "--db-probe",
    "db_probes",
    multiple=True,
    metavar="NAMESPACE",
    help="Allow --db-probe's port-forward to the database pods of this namespace (repeatable).",
)
def rbac(
    users: tuple[str, ...],
    groups: tuple[str, ...],
    service_accounts: tuple[str, ...],
    secrets: tuple[str, ...],
    probe_pods: tuple[str, ...],
    db_probes: tuple[str, ...],
) -> int:
    """Print the RBAC paramedic needs: the read-only ClusterRole paramedic-reader, bound to
    each user, group or ServiceAccount named, plus the optional Roles asked for.

    Every rule is commented with the evidence that needs it; nothing in it can change the
    cluster. Secrets are never in the ClusterRole: --secret grants `get` of one Secret by name.
    """
    from paramedic.kube import rbac as rbac_manifests

    grant = rbac_manifests.Grant(
        subjects=(
            *(rbac_manifests.subject("User", u, "--user") for u in users),
            *(rbac_manifests.subject("Group", g, "--group") for g in groups),
            *(
                rbac_manifests.subject("ServiceAccount", s, "--service-account")
                for s in service_accounts
            ),
        ),
        secrets=tuple(rbac_manifests.namespaced(s, "--secret") for s in secrets),
        probe_pods=tuple(rbac_manifests.namespace_name(n, "--probe-pod") for n in probe_pods),
        db_probes=tuple(rbac_manifests.namespace_name(n, "--db-probe") for n in db_probes),
    )
    click.echo(rbac_manifests.manifests(grant), nl=False)
    return 0
