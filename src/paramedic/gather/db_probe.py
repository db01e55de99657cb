"""`--db-probe`: the PostgreSQL probe, run through a port-forward to the database pod with the
credentials the source's containers use.

Which credentials: the source container's environment (kube.env), by the names clients use —
a `DATABASE_URL`-style DSN, or user / password / database variables (PGUSER, DB_USER,
POSTGRES_USER, ...). Values from Secrets are read with one `get` of each Secret, decoded in
memory, handed to the probe and dropped: they never enter `Evidence`, a report or a bundle
(the probe's result carries no password). Which database: the first ready pod behind the target
Service, on the Service port's targetPort. Everything that stops the probe is a gap line.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic import errors, timeouts
from paramedic.evidence import credtext, model, probes_file, redact
from paramedic.gather import kubeapi, portforward, table
from paramedic.kube import env, objects, pods, resolve, services
from paramedic.probes import outcomes, postgres

URL_VARS = (
    "DATABASE_URL",
    "POSTGRES_URL",
    "POSTGRESQL_URL",
    "DB_URL",
    "PG_URL",
    "DATABASE_DSN",
    "DB_DSN",
)
USER_VARS = (
    "PGUSER",
    "DB_USER",
    "DB_USERNAME",
    "DATABASE_USER",
    "DATABASE_USERNAME",
    "POSTGRES_USER",
    "SPRING_DATASOURCE_USERNAME",
)
PASSWORD_VARS = (
    "PGPASSWORD",
    "DB_PASSWORD",
    "DB_PASS",
    "DATABASE_PASSWORD",
    "POSTGRES_PASSWORD",
    "SPRING_DATASOURCE_PASSWORD",
)
DBNAME_VARS = ("PGDATABASE", "DB_NAME", "DB_DATABASE", "DATABASE_NAME", "POSTGRES_DB")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """Where the client's credentials come from (names only; values are fetched later)."""

    container: str
    url: env.EnvVar | None = None
    user: env.EnvVar | None = None
    password: env.EnvVar | None = None
    dbname: env.EnvVar | None = None


def credentials(template: Mapping[str, Any]) -> Credentials | None:
    """The first container of the source that has database settings in its environment."""
    for container in pods.containers(template):
        found = {var.name: var for var in env.effective_env(container)}

        def pick(names: tuple[str, ...], found: dict[str, env.EnvVar] = found) -> env.EnvVar | None:
            return next((found[n] for n in names if n in found), None)

        creds = Credentials(
            container=str(container.get("name", "")),
            url=pick(URL_VARS),
            user=pick(USER_VARS),
            password=pick(PASSWORD_VARS),
            dbname=pick(DBNAME_VARS),
        )
        if creds.url or creds.user or creds.password:
            return creds
    return None


def run(
    evidence: model.Evidence,
    incident: model.Incident,
    *,
    kubeconfig: str | None,
    context: str | None,
    limits: timeouts.Timeouts,
) -> model.Evidence:
    """`evidence` plus the postgres probe result (or a gap saying why there is none)."""
    scope = resolve.resolve(evidence, incident, default_port=5432)
    result, gap = _probe(evidence, scope, kubeconfig=kubeconfig, context=context, limits=limits)
    return dataclasses.replace(
        evidence,
        probes=evidence.probes + ((result,) if result else ()),
        gaps=evidence.gaps
        + ((model.Gap("probe:postgres", "", f"database probe not run: {gap}"),) if gap else ()),
    )


def _probe(
    evidence: model.Evidence,
    scope: resolve.Scope,
    *,
    kubeconfig: str | None,
    context: str | None,
    limits: timeouts.Timeouts,
) -> tuple[probes_file.ProbeResult | None, str]:
    if scope.external or scope.target_service is None:
        return (
            None,
            "the target is outside the cluster (probe it directly: paramedic probe postgres DSN)",
        )
    ready = [p for p in scope.target_pods if pods.is_ready(p)] or list(scope.target_pods)
    if not ready:
        return None, f"no pod behind {scope.target}"
    pod = ready[0]
    svc_port = services.find_port(scope.target_service, scope.port)
    pod_port = services.container_port(pod, services.target_port(svc_port)) if svc_port else None
    if not pod_port:
        return None, f"no container port of {objects.ref(pod)} matches {scope.target}:{scope.port}"
    template = scope.source_template()
    creds = credentials(template) if template else None
    if creds is None:
        return (
            None,
            f"no database settings (user, password or URL) in the environment of {scope.source}",
        )
    api = kubeapi.connect(kubeconfig=kubeconfig, context=context, pool_size=2, timeout=limits.total)
    try:
        values, problem = _values(api, scope.namespace, creds, limits)
        if problem:
            return None, problem
        params: dict[str, Any] = postgres.parse(values["url"]) if values.get("url") else {}
        password = params.pop("password", None) or values.get("password")
        params.pop("hostaddr", None)  # libpq would connect there, around the port-forward
        params.update({"host": "127.0.0.1", "sslmode": params.get("sslmode", "prefer")})
        for key in ("user", "dbname"):
            if values.get(key):
                params[key] = values[key]
        with portforward.Forward(
            api, objects.namespace(pod), objects.name(pod), pod_port, timeout=limits.postgres
        ) as forward:
            params["port"] = str(forward.port)
            result = postgres.probe(params, timeout=limits.postgres, password=password)
        trouble = tunnel_failure(result, forward.errors)  # errors read after close()
        if trouble:
            return None, trouble
        via = f"port-forward to {objects.ref(pod)}:{pod_port}"
        return dataclasses.replace(
            result,
            target=f"{params.get('user', '')}@{objects.namespace(pod)}/{objects.name(pod)}"
            f":{pod_port}/{params.get('dbname', '')}",
            source=via,
            data={**result.data, "via": via, "credentials_from": _describe(creds)},
        ), ""
    except errors.InputError as exc:
        return None, str(exc)
    finally:
        kubeapi.close(api)


SERVER_ANSWERED = frozenset(
    {
        outcomes.Postgres.OK,
        outcomes.Postgres.AUTH_FAILED,
        outcomes.Postgres.NO_HBA_ENTRY,
        outcomes.Postgres.TOO_MANY_CONNECTIONS,
        outcomes.Postgres.DATABASE_MISSING,
    }
)
"""Outcomes only PostgreSQL itself can give: the tunnel carried the conversation."""


def tunnel_failure(result: probes_file.ProbeResult, relay_errors: list[str]) -> str:
    """Why `result` says nothing about the database ('' when it does): a relay of the
    port-forward failed and the probe got no answer from PostgreSQL itself. An answer of the
    server (a rejected password, say) stands even when a relay logged an error afterwards,
    e.g. the server closing the connection after refusing the login."""
    if not relay_errors or result.outcome in SERVER_ANSWERED:
        return ""
    return relay_errors[0]


def _values(
    api: kubeapi.Api, namespace: str, creds: Credentials, limits: timeouts.Timeouts
) -> tuple[dict[str, str], str]:
    """The credential values, Secrets read by name and decoded in memory only."""
    secrets: dict[str, Mapping[str, Any]] = {}
    values: dict[str, str] = {}
    for key, var in (
        ("url", creds.url),
        ("user", creds.user),
        ("password", creds.password),
        ("dbname", creds.dbname),
    ):
        if var is None:
            continue
        if var.source == "value":
            values[key] = var.value or ""
            if redact.is_digest(values[key]) or credtext.MASK in values[key]:
                return {}, (
                    f"{var.name} is written literally in the pod spec, and paramedic keeps no"
                    " credential it reads there (put it in a Secret, or run: paramedic probe"
                    " postgres DSN)"
                )
        elif var.source in ("secretKeyRef", "secretRef") and var.ref_name and var.key:
            if var.ref_name not in secrets:
                path = table.path("Secret", namespace, var.ref_name)
                reply = api.call("GET", path, timeout=limits.request)
                if not reply.ok:
                    return {}, f"cannot get secrets {namespace}/{var.ref_name}: {reply.problem}"
                secrets[var.ref_name] = (
                    reply.data.get("data") or {} if isinstance(reply.data, dict) else {}
                )
            raw = secrets[var.ref_name].get(var.key)
            if raw is None:
                return {}, f"Secret {namespace}/{var.ref_name} has no key {var.key!r} ({var.name})"
            try:
                values[key] = base64.b64decode(str(raw), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return {}, f"Secret {namespace}/{var.ref_name} key {var.key!r} is not UTF-8 text"
        else:
            return (
                {},
                f"{var.name} comes from {var.source} {var.ref_name or '-'}, which is not read",
            )
    return values, ""


def _describe(creds: Credentials) -> str:
    parts = []
    for var in (creds.url, creds.user, creds.password, creds.dbname):
        if var is not None:
            parts.append(
                f"{var.name}"
                + (
                    f" <- Secret {var.ref_name} key {var.key}"
                    if var.source.startswith("secret")
                    else ""
                )
            )
    return f"container {creds.container}: " + ", ".join(parts)
