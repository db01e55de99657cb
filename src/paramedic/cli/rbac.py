"""`paramedic rbac`: the Kubernetes RBAC paramedic needs, printed for `kubectl apply -f -`.

An installed paramedic has no deploy/ directory; this prints the same ClusterRole (the files
ship inside the package) and binds it, and the optional Roles, to whoever is named."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import click

from paramedic import errors, timeouts
from paramedic.cli import common
from paramedic.reports import safe

if TYPE_CHECKING:
    from paramedic.kube import rbac as rbac_model

_EPILOG = """\b
Examples (an admin applies what is printed; only --check talks to the cluster):
  me=$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')
  paramedic rbac --user "$me" | kubectl apply -f -
  paramedic rbac --group oncall --secret app/profile-db-credentials --probe-pod app \\
    | kubectl apply -f -
  paramedic rbac --service-account paramedic/paramedic --db-probe data | kubectl apply -f -
  paramedic rbac --check --secret app/profile-db-credentials   # what do I lack? (asks the cluster)
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
@click.option(
    "--check",
    is_flag=True,
    help="Instead: ask the cluster whether your kubeconfig's user already has all of it"
    " (exit 1 if not).",
)
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="With --check: as kubectl's.")
@click.option("--context", help="With --check: the kubeconfig context (as kubectl --context).")
@common.timeout_option(timeouts.DEFAULT.total)
def rbac(
    users: tuple[str, ...],
    groups: tuple[str, ...],
    service_accounts: tuple[str, ...],
    secrets: tuple[str, ...],
    probe_pods: tuple[str, ...],
    db_probes: tuple[str, ...],
    check: bool,
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
) -> int:
    """Print the RBAC paramedic needs: the read-only ClusterRole paramedic-reader, bound to
    each user, group or ServiceAccount named, plus the optional Roles asked for.

    Every rule is commented with the evidence that needs it; nothing in it can change the
    cluster. Secrets are never in the ClusterRole: --secret grants `get` of one Secret by name.

    With --check nothing is printed to apply: the API server says, permission by permission
    (as `kubectl auth can-i`), whether the current user may already do all of it, and the
    command that grants what is missing. Exit status: 0 all of it, 1 something missing or
    unknown, 2 bad input or no cluster.
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
    if check:
        if grant.subjects:
            raise errors.InputError(
                "--check reviews your own access: drop --user, --group and --service-account"
            )
        return _check(grant, kubeconfig=kubeconfig, context=context, timeout=timeout)
    if kubeconfig or context:
        raise errors.InputError(
            "--kubeconfig and --context go with --check (printing reads no cluster)"
        )
    click.echo(rbac_manifests.manifests(grant), nl=False)
    return 0


def _check(
    grant: rbac_model.Grant, *, kubeconfig: str | None, context: str | None, timeout: float
) -> int:
    from paramedic.gather import access
    from paramedic.kube import rbac as rbac_manifests

    try:
        done = access.review(
            rbac_manifests.needed(grant), kubeconfig=kubeconfig, context=context, timeout=timeout
        )
    except errors.KubeAccessError as exc:  # no cluster to ask: a usage problem, as diagnose's
        raise errors.InputError(str(exc)) from exc
    who = f"user {safe.line(done.user)}" if done.user else "your user"
    short = [a for a in done.answers if a.allowed is not True]
    if not short:
        click.echo(
            f"{who} (context {done.context}) has all {len(done.answers)} permissions paramedic"
            " needs"
        )
        return 0
    missing = sum(a.allowed is False for a in short)
    unknown = f" (and could not check {len(short) - missing})" if len(short) > missing else ""
    click.echo(
        f"{who} (context {done.context}) lacks {missing}{unknown} of the"
        f" {len(done.answers)} permissions paramedic needs:"
    )
    for answer in short:
        mark = "✗" if answer.allowed is False else "?"
        said = f": {answer.problem}" if answer.problem else ""
        click.echo(f"  {mark} {safe.line(answer.permission.describe() + said)}")
    flags = " ".join(
        [f"--secret {ns}/{name}" for ns, name in grant.secrets]
        + [f"--probe-pod {ns}" for ns in grant.probe_pods]
        + [f"--db-probe {ns}" for ns in grant.db_probes]
    )
    click.echo("to grant it, an admin runs (as pasted):")
    click.echo(
        f"paramedic rbac {safe.line(_subject_flag(done.user))}{' ' + flags if flags else ''}"
        " | kubectl apply -f -"
    )
    return 1


def _subject_flag(user: str) -> str:
    """How `paramedic rbac` names the reviewed user: a pod's ServiceAccount as NS/NAME."""
    account = user.split(":")
    if len(account) == 4 and account[:2] == ["system", "serviceaccount"]:
        return f"--service-account {account[2]}/{account[3]}"
    return f"--user {shlex.quote(user)}" if user else "--user NAME"
