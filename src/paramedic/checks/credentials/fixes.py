"""Summaries and exact fixes for what `credentials` finds (missing reference, stale Secret,
rejected password, missing pg_hba.conf line). Each `for_*` returns the fix/why/verify fields of
a Finding. Commands never contain a credential: values move from Secret to Secret, or are typed
at a prompt, never printed. Not a check: helpers of checks/credentials.py.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.credentials import facts
from paramedic.evidence import logscan, probes_file
from paramedic.evidence import model as evidence_model
from paramedic.kube import env, objects, pods, resolve

Obj = Mapping[str, Any]
_USER = logscan.compile(r'for user "([^"]+)"|user "([^"]+)"')
_HBA = logscan.compile(
    r'no pg_hba\.conf entry for host "([^"]+)", user "([^"]+)", database "([^"]+)"'
)


def _restart(template: Obj, pod_list: Sequence[Obj] = ()) -> str:
    ref = clues.workload_ref(template)
    if ref is not None and ref[0] in ("deployment", "statefulset", "daemonset"):
        return f"kubectl rollout restart {ref[0]}/{ref[2]} -n {ref[1]}"
    names = " ".join(objects.name(p) for p in pod_list) or objects.name(template)
    return f"kubectl delete pod {names} -n {objects.namespace(template)}"


def _status(template: Obj) -> str:
    ref = clues.workload_ref(template)
    if ref is not None and ref[0] in ("deployment", "statefulset", "daemonset"):
        return f"kubectl rollout status {ref[0]}/{ref[2]} -n {ref[1]} --timeout=180s"
    return f"kubectl get pods -n {objects.namespace(template)}"


def _log_target(template: Obj) -> str:
    ref = clues.workload_ref(template)
    return f"{ref[0]}/{ref[2]}" if ref else objects.name(template)


def logs_command(template: Obj, pod_list: Sequence[Obj]) -> str:
    ref = clues.workload_ref(template)
    target = (
        f"{ref[0]}/{ref[2]}"
        if ref
        else (objects.name(pod_list[0]) if pod_list else objects.name(template))
    )
    return (
        f"kubectl logs -n {objects.namespace(template)} {target} --all-containers --since=30m | "
        "grep -iE 'password authentication failed|pg_hba.conf|28P01'"
    )


# --- missing Secret / key ---------------------------------------------------------------------


def missing_summary(template: Obj, m: facts.Missing) -> str:
    ref = m.ref
    if m.what == "key":
        has = ", ".join(m.existing_keys) or "none"
        thing = (
            f"key {ref.key!r} of {ref.kind} {objects.namespace(template)}/{ref.name}, which has "
            f"no such key (keys: {has})"
        )
    else:
        thing = f"{ref.kind} {objects.namespace(template)}/{ref.name}, which does not exist"
    return (
        f"{objects.ref(template)} reads {thing}: its containers cannot be created "
        "(CreateContainerConfigError)"
    )


def for_missing(template: Obj, m: facts.Missing) -> model.Remedy:
    ref, ns = m.ref, objects.namespace(template)
    wl = clues.workload_ref(template)
    steps: list[model.FixStep] = []
    alternatives: list[str] = []
    if m.closest and wl is not None and ref.via != env.VOLUME:
        field = "key" if m.what == "key" else "name"
        ops = [{"op": "replace", "path": f"{ref.path}/{field}", "value": m.closest}]
        steps.append(
            model.FixStep(
                description=f"read the existing {field} {m.closest!r} instead (starts a rollout)",
                language="shell",
                content=f"kubectl patch {wl[0]} {wl[2]} -n {ns} --type json -p "
                f"'{json.dumps(ops, separators=(', ', ': '))}'",
                action={
                    "op": "patch",
                    "target": objects.ref(template),
                    "patch_type": "json",
                    "patch": ops,
                },
            )
        )
        summary = f"Point {ref.env_var or ref.describe()} at the existing {field} {m.closest!r}"
        if m.what == "key":
            copy = (
                f'kubectl patch secret {ref.name} -n {ns} --type json -p "[{{\\"op\\": \\"add\\", '
                f'\\"path\\": \\"/data/{ref.key}\\", \\"value\\": \\"$(kubectl get secret '
                f"{ref.name} "
                f"-n {ns} -o jsonpath='{{.data.{m.closest}}}')\\\"}}]\""
            )
            caveat = (
                f"; {m.written_by} writes this Secret and may revert a hand edit, so change its"
                " source too"
                if m.written_by and not m.written_by.startswith(("kubectl", "created"))
                else ""
            )
            alternatives.append(
                f"add key {ref.key!r} to the Secret with the value of {m.closest!r} (the kubelet "
                f"retries and the stuck pods start{caveat}): {copy}"
            )
    else:
        where = f"{ref.kind} {ns}/{ref.name}"
        summary = (
            f"Add key {ref.key!r} to {where}" if m.what == "key" else f"Create {where}"
        ) + " from your secret store, or correct the reference"
        steps.append(
            model.FixStep(
                description=summary,
                language="text",
                content=f"{where} must provide {ref.key or 'the keys the workload reads'}",
            )
        )
    return model.Remedy(
        fix=model.Fix(summary=summary, steps=tuple(steps), alternatives=tuple(alternatives)),
        why=(
            "The kubelet resolves secretKeyRef/configMapKeyRef/envFrom when it creates a "
            "container; a missing object or key that is not marked optional stops the container "
            "from being created at all, so no pod of this version ever runs."
        ),
        verify=f"{_status(template)} && kubectl get pods -n {ns}  # expect all Running and READY",
    )


# --- Secret changed after the pods started ----------------------------------------------------


def stale_cite(s: facts.Stale) -> model.Cite:
    how = ", ".join(sorted({r.describe() for r in s.refs}))
    started = ", ".join(f"{p} at {facts.iso(t)}" for p, t in s.pods[:3])
    return model.Cite(
        text=f"written {facts.iso(s.changed_at)} by {s.changed_by}, after {started} "
        f"started; read as {how}",
        source=objects.ref(s.secret),
    )


def stale_summary(s: facts.Stale, failures: int) -> str:
    tail = (
        f"; {failures} authentication failure line(s) in client/server logs since"
        if failures
        else ""
    )
    return (
        f"{objects.ref(s.secret)} changed at {facts.iso(s.changed_at)}, after "
        f"{len(s.pods)} client pod(s) started; they still hold the old value{tail}"
    )


def for_stale(template: Obj, s: facts.Stale) -> model.Remedy:
    restart = _restart(template, [])
    return model.Remedy(
        fix=model.Fix(
            summary="Restart the client pods so they read the current Secret",
            steps=(
                model.FixStep(
                    description="rolling restart (new pods read the Secret at start)",
                    language="shell",
                    content=restart,
                    action={"op": "restart", "target": objects.ref(template)},
                ),
            ),
            alternatives=(
                "to survive the next rotation: mount the Secret as a volume without subPath and "
                "re-read it when authentication fails",
            ),
            rollback="none needed: a restart changes only the restartedAt annotation of the pod "
            "template",
        ),
        why=(
            "A Secret used as an env var (or envFrom, or a subPath mount) is read once, when the "
            "container starts; PostgreSQL checks the password only when a connection opens, so "
            "pooled sessions kept working and every new connection fails with 28P01 until the "
            "pods restart. (Restart only once the role's password in PostgreSQL holds the new "
            "value - `paramedic probe postgres` as the application user shows it - or the new "
            "pods fail too.)"
        ),
        verify=(
            f"{_status(template)} && kubectl logs -n {objects.namespace(template)} "
            f"{_log_target(template)} --since=5m | grep -c 'password authentication failed'"
            "  # expect 0"
        ),
    )


# --- the server rejects the credential --------------------------------------------------------


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
                f"write the role's current password into the Secret and then: {_restart(template)}",
            ),
        ),
        why=(
            "PostgreSQL answered and rejected the password (28P01): the network, DNS and the "
            "role itself are fine; only the secret differs between the two sides."
        ),
        verify=f"{logs_command(template, list(scope.source_pods))}  # expect no new lines; "
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
            f"{logs_command(scope.source_template() or {}, list(scope.source_pods))}"
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
