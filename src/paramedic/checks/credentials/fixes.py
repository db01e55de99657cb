"""Summaries and exact fixes for a credential the client never gets right: a missing Secret or
key, and a Secret changed after the pods started (the server-side rejections are in `rejected`).
Each `for_*` returns a Remedy. Commands never contain a credential: values move from Secret to
Secret, or are typed at a prompt, never printed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.credentials import commands, facts
from paramedic.evidence import logscan
from paramedic.kube import env, objects

Obj = Mapping[str, Any]
_USER = logscan.compile(r'for user "([^"]+)"|user "([^"]+)"')
_HBA = logscan.compile(
    r'no pg_hba\.conf entry for host "([^"]+)", user "([^"]+)", database "([^"]+)"'
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
        verify=f"{commands.status(template)} && kubectl get pods -n {ns}"
        "  # expect all Running and READY",
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
    restart = commands.restart(template, [])
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
            f"{commands.status(template)} && kubectl logs -n {objects.namespace(template)} "
            f"{commands.log_target(template)} --since=5m"
            " | grep -c 'password authentication failed'"
            "  # expect 0"
        ),
    )
