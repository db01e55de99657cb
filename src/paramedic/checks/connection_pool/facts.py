"""Connection arithmetic from objects: PostgreSQL's slot limits and the clients' pool demand.

Server side: `max_connections`, `superuser_reserved_connections` and `reserved_connections`
from the DB container's args (`-c max_connections=200`), its env (`POSTGRESQL_MAX_CONNECTIONS`),
or a postgresql.conf in a mounted ConfigMap; else PostgreSQL's defaults (100, 3, 0).
Client side: replicas × pool size (DB_POOL_SIZE, POOL_MAX, SQLALCHEMY_POOL_SIZE + MAX_OVERFLOW,
HikariCP maximumPoolSize, `?pool_max_conns=` in a URL), peaking at replicas + maxSurge during a
rolling update (or the HPA's maxReplicas), for every workload pointed at the same database.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from paramedic.checks import clues, dns_names
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods

DEFAULTS = {"max_connections": 100, "superuser_reserved_connections": 3, "reserved_connections": 0}
_POOL = re.compile(
    r"(POOL_?SIZE|POOL_?MAX|MAX_?POOL_?SIZE|MAXIMUM_?POOL_?SIZE|MAXIMUMPOOLSIZE|"
    r"POOL_MAX_CONNS|CONNECTION_?LIMIT|MAX_?CONNS)$"
)
_OVERFLOW = re.compile(r"MAX_?OVERFLOW$")
_URL_POOL = (
    "pool_max_conns",
    "pool_max",
    "connection_limit",
    "pool_size",
    "maximumPoolSize",
    "max",
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    value: int
    source: str
    """'args', 'env NAME', 'ConfigMap ns/name key', or 'default'."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ServerLimits:
    max_connections: Setting
    superuser_reserved: Setting
    reserved: Setting
    container: str = ""
    workload: Mapping[str, Any] | None = None

    @property
    def usable(self) -> int:
        return self.max_connections.value - self.superuser_reserved.value - self.reserved.value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClientDemand:
    """What one workload may open: pods × pool per pod."""

    workload: Mapping[str, Any]
    replicas: int
    peak_pods: int
    peak_reason: str
    pool: int | None
    pool_source: str

    @property
    def steady(self) -> int | None:
        return None if self.pool is None else self.replicas * self.pool

    @property
    def peak(self) -> int | None:
        return None if self.pool is None else self.peak_pods * self.pool


def server_limits(
    ev: evidence_model.Evidence, db_pods: Sequence[Mapping[str, Any]]
) -> ServerLimits | None:
    """The DB's limits as configured in its pod spec; None when no DB pod is in the evidence."""
    if not db_pods:
        return None
    pod = db_pods[0]
    candidates = pods.containers(pod)
    if not candidates:
        return None
    container = next(
        (
            c
            for c in candidates
            if "postgres" in str(c.get("image", "")) or c.get("name") == "postgres"
        ),
        candidates[0],
    )
    found: dict[str, Setting] = {}
    ns = objects.namespace(pod)
    for name, number, source in _config_file_settings(ev, pod, container):
        found[name] = Setting(value=number, source=source)
    env = clues.env_values(container, ev, ns, pod)
    for name in DEFAULTS:
        for var in (f"POSTGRESQL_{name.upper()}", f"POSTGRES_{name.upper()}", f"PG_{name.upper()}"):
            if env.get(var, "").isdecimal():
                found[name] = Setting(value=int(env[var]), source=f"env {var}")
    args = [
        str(a)
        for a in (
            *objects.as_list(container.get("command")),
            *objects.as_list(container.get("args")),
        )
    ]
    for i, arg in enumerate(args):
        text = args[i + 1] if arg == "-c" and i + 1 < len(args) else arg.removeprefix("--")
        key, _, value = text.partition("=")
        if key.strip() in DEFAULTS and value.strip().isdecimal():
            found[key.strip()] = Setting(value=int(value.strip()), source="args")
    get = lambda key: found.get(key) or Setting(value=DEFAULTS[key], source="default")  # noqa: E731
    return ServerLimits(
        max_connections=get("max_connections"),
        superuser_reserved=get("superuser_reserved_connections"),
        reserved=get("reserved_connections"),
        container=str(container.get("name", "")),
        workload=clues.owner_workload(ev, pod),
    )


def _config_file_settings(
    ev: evidence_model.Evidence, pod: Mapping[str, Any], container: Mapping[str, Any]
) -> list[tuple[str, int, str]]:
    """Settings in postgresql.conf-style files of ConfigMaps mounted into the DB container."""
    ns = objects.namespace(pod)
    mounted = {
        str(objects.as_dict(m).get("name")) for m in objects.as_list(container.get("volumeMounts"))
    }
    out = []
    for volume in objects.as_list(pods.pod_spec(pod).get("volumes")):
        volume = objects.as_dict(volume)
        ref = objects.as_dict(volume.get("configMap"))
        if str(volume.get("name")) not in mounted or not ref:
            continue
        config = ev.get("ConfigMap", ns, str(ref.get("name", "")))
        for key, text in objects.as_dict((config or {}).get("data")).items():
            for line in str(text).splitlines():
                match = re.match(r"\s*(\w+)\s*=?\s*'?(\d+)'?\s*(#.*)?$", line)
                if match and match.group(1) in DEFAULTS:
                    out.append(
                        (
                            match.group(1),
                            int(match.group(2)),
                            f"ConfigMap {ns}/{ref.get('name')} {key}",
                        )
                    )
    return out


def demand(
    ev: evidence_model.Evidence, workload: Mapping[str, Any], spaces: Collection[str]
) -> ClientDemand:
    """What a client may open at peak; its ConfigMaps are read only in `spaces` (the incident's
    namespaces, whose ConfigMaps the check's needs list)."""
    ns = objects.namespace(workload)
    replicas = (
        objects.as_int(objects.spec(workload).get("replicas", 1))
        if workload.get("kind") != "Pod"
        else 1
    )
    peak, reason = replicas, ""
    hpa = next(
        (
            h
            for h in ev.kind("HorizontalPodAutoscaler", ns)
            if objects.as_dict(objects.spec(h).get("scaleTargetRef")).get("name")
            == objects.name(workload)
        ),
        None,
    )
    if hpa is not None:
        replicas_max = objects.as_int(objects.spec(hpa).get("maxReplicas")) or replicas
        if replicas_max > peak:
            peak, reason = replicas_max, f"HPA {objects.name(hpa)} maxReplicas {replicas_max}"
    surge = _surge(workload, peak)
    if surge:
        reason = (reason + " + " if reason else "") + f"maxSurge {surge} during a rollout"
        peak += surge
    pool, source = None, ""
    for container in pods.containers(workload):
        settings = clues.env_values(container, ev, ns, workload, referenced=ns in spaces)
        size, src = pool_size(settings)
        if size is not None:
            pool, source = (pool or 0) + size, src
    return ClientDemand(
        workload=workload,
        replicas=replicas,
        peak_pods=peak,
        peak_reason=reason,
        pool=pool,
        pool_source=source,
    )


def _surge(workload: Mapping[str, Any], replicas: int) -> int:
    if workload.get("kind") != "Deployment":
        return 0
    strategy = objects.as_dict(objects.spec(workload).get("strategy"))
    if strategy.get("type") == "Recreate":
        return 0
    value = objects.as_dict(strategy.get("rollingUpdate")).get("maxSurge", "25%")
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%") and text[:-1].isdecimal():
        return math.ceil(replicas * int(text[:-1]) / 100)
    return int(text) if text.isdecimal() else 0


def pool_size(env: Mapping[str, str]) -> tuple[int | None, str]:
    """Connections one pod may open, from its env (pool + overflow), else from a URL's query."""
    size: int | None = None
    source = ""
    for name, value in env.items():
        if _POOL.search(name.upper()) and value.strip().isdecimal():
            size, source = int(value), f"{name}={value}"
    if size is not None:
        for name, value in env.items():
            if _OVERFLOW.search(name.upper()) and value.strip().isdecimal():
                size, source = size + int(value), f"{source} + {name}={value}"
        return size, source
    for name, value in env.items():
        if "://" in value and dns_names.url_host(value):
            query = parse_qs(urlsplit(value.removeprefix("jdbc:")).query)
            for key in _URL_POOL:
                if query.get(key, [""])[0].isdecimal():
                    return int(query[key][0]), f"{name} ?{key}={query[key][0]}"
    return None, ""


def clients_of(
    ev: evidence_model.Evidence,
    service: Mapping[str, Any] | None,
    host: str,
    spaces: Collection[str],
) -> list[Mapping[str, Any]]:
    """Workloads, in any namespace, whose configured DB host lands on `service` (or equals
    `host`); outside `spaces` only literal values count (their ConfigMaps are not fetched)."""
    known = ev.namespace_names()
    found: list[Mapping[str, Any]] = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "CronJob"):
        for workload in ev.kind(kind):
            ns = objects.namespace(workload)
            for container in pods.containers(workload):
                settings = clues.env_values(container, ev, ns, workload, referenced=ns in spaces)
                hosts = dns_names.configured_hosts(settings)
                if any(_lands_on(h.host, ns, known, service, host) for h in hosts):
                    found.append(workload)
                    break
    return found


def _lands_on(
    name: str, ns: str, known: set[str], service: Mapping[str, Any] | None, host: str
) -> bool:
    if service is None:
        return name == host
    where = dns_names.cluster_name(name, ns, known)
    if where is not None:
        return (where.namespace, where.service) == (
            objects.namespace(service),
            objects.name(service),
        )
    return name == objects.spec(service).get("clusterIP")
