"""Fixes for a credential the server rejects: a wrong password (the Secret and the role disagree)
and a missing pg_hba.conf line for the client's address. Commands never contain a credential."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.credentials import commands
from paramedic.evidence import logscan, probes_file
from paramedic.evidence import model as evidence_model
from paramedic.kube import env, objects, pods, resolve

Obj = Mapping[str, Any]
_USER = logscan.compile(r'for user "([^"]+)"|user "([^"]+)"')
_HBA = logscan.compile(
    r'no pg_hba\.conf entry for host "([^"]+)", user "([^"]+)", database "([^"]+)"'
)


def _db_pod(scope: resolve.Scope) -> Obj | None:
    ready = [p for p in scope.target_pods if pods.is_ready(p)]
    candidates = ready or list(scope.target_pods)
    return candidates[0] if candidates else None


def _db_name(template: Obj) -> str:
    for c in pods.containers(template):
        for var in ("DB_NAME", "POSTGRES_DB", "PGDATABASE", "DATABASE_NAME"):
            value = env.value_of(c, var)
            if value:
                return value
    return "postgres"


def for_wrong_password(
    ev: evidence_model.Evidence,
    scope: resolve.Scope,
    template: Obj,
    auth: Sequence[clues.Clue],
    probes: Sequence[probes_file.ProbeResult],
) -> model.Remedy:
    users = [
        u for c in auth for m in [_USER.search(c.line)] if m for u in [m.group(1) or m.group(2)]
    ]
    users += [str(p.data["user"]) for p in probes if p.data.get("user")]
    user = (
        users[0]
        if users
        else next(
            (v for c in pods.containers(template) for v in [env.value_of(c, "DB_USER")] if v), None
        )
    )
    db = _db_pod(scope)
    steps = []
    if user and db is not None:
        container = (pods.containers(db) or [{}])[0].get("name", "postgres")
        steps.append(
            model.FixStep(
                description=f"set role {user}'s password to the Secret's value (psql prompts; "
                "nothing is echoed)",
                language="shell",
                content=(
                    f"kubectl exec -it -n {objects.namespace(db)} {objects.name(db)} -c "
                    f"{container} -- psql -U postgres -d {_db_name(template)} -c '\\password "
                    f"{user}'"
                ),
            )
        )
    summary = (
        f"Make role {user}'s password and the client's Secret agree"
        if user
        else "Make the database role's password and the client's Secret agree"
    )
    return model.Remedy(
        fix=model.Fix(
            summary=summary,
            steps=tuple(steps),
            alternatives=(
                "write the role's current password into the Secret and then: "
                + commands.restart(template),
            ),
        ),
        why=(
            "PostgreSQL answered and rejected the password (28P01): the network, DNS and the "
            "role itself are fine; only the secret differs between the two sides."
        ),
        verify=commands.logs_command(template, list(scope.source_pods))
        + "  # expect no new lines; "
        f"or paramedic probe postgres as {user or 'the application user'} says ok",
    )


def for_hba(ev: evidence_model.Evidence, scope: resolve.Scope, first: Any) -> model.Remedy:
    text = (
        first.line
        if isinstance(first, clues.Clue)
        else str(first.data.get("server_message") or first.detail)
    )
    m = _HBA.search(text)
    host, user, database = m.groups() if m else ("", "", "")
    cidr = _pod_cidr(ev, host)
    db = _db_pod(scope)
    line = f"host {database or 'all'} {user or 'all'} {cidr} scram-sha-256"
    steps = []
    if db is not None:
        container = (pods.containers(db) or [{}])[0].get("name", "postgres")
        steps.append(
            model.FixStep(
                description="allow the client pods' network in pg_hba.conf and reload (no restart)",
                language="shell",
                content=(
                    f"kubectl exec -n {objects.namespace(db)} {objects.name(db)} -c {container} "
                    "-- sh -c "
                    f'\'echo "{line}" >> "$PGDATA/pg_hba.conf" && psql -U postgres -c "SELECT '
                    "pg_reload_conf()\"'"
                ),
            )
        )
    return model.Remedy(
        fix=model.Fix(
            summary=f"Add the pg_hba.conf line: {line}",
            steps=tuple(steps),
            alternatives=(
                "if the image manages pg_hba.conf (operator, Helm chart), add the line in its "
                "configuration instead, or it is lost on restart",
            ),
        ),
        why=(
            "PostgreSQL matched no pg_hba.conf line for this client address, user and database "
            "and rejected the session before checking the password (SQLSTATE 28000); pod traffic "
            "may also arrive SNATed from the node's IP."
        ),
        verify=(
            f"{commands.logs_command(scope.source_template() or {}, list(scope.source_pods))}"
            "  # expect no new lines"
        ),
    )


def _pod_cidr(ev: evidence_model.Evidence, host: str) -> str:
    """The cluster's pod network (nodes' podCIDRs, merged), else the client address's /16."""
    nets = []
    for node in ev.kind("Node"):
        for cidr in [
            objects.spec(node).get("podCIDR"),
            *objects.as_list(objects.spec(node).get("podCIDRs")),
        ]:
            try:
                nets.append(ipaddress.ip_network(str(cidr)))
            except ValueError:
                continue
    v4 = [n for n in nets if n.version == 4]
    if v4:
        merged = v4[0]
        while not all(n.subnet_of(merged) for n in v4):
            merged = merged.supernet()
        return str(merged)
    try:
        return str(ipaddress.ip_network(f"{host}/16", strict=False))
    except ValueError:
        return "10.0.0.0/8"
