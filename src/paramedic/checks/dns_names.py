"""How a client's database host name resolves in Kubernetes, without asking a DNS server.

Cluster DNS answers `<svc>.<ns>.svc.cluster.local` (and `<pod>.<svc>.<ns>.svc...` for headless
Services). A name with fewer dots than `ndots` (5 by default) is tried with every search suffix
first, and the first suffix is the *client's* namespace: a short `profile-db` in namespace `app`
means `profile-db.app.svc.cluster.local`, never the one in `data`. This module turns the names a
client is configured with (DB_HOST, *_HOST, DATABASE_URL) into the Service they land on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from paramedic.kube import names

CLUSTER_DOMAIN = "cluster.local"
_HOST_VARS = re.compile(
    r"^(DB|DATABASE|PG|POSTGRES(QL)?)_?(HOST|HOSTNAME|SERVER|ADDR(ESS)?)$|_HOST$"
)
_URL_VARS = re.compile(
    r"(^|_)(DATABASE|DATASOURCE|DB|PG|POSTGRES(QL)?)_?(URL|URI|DSN)$|^JDBC_URL$|_DATABASE_URL$"
)
_DB_WORDS = re.compile(r"DB|DATABASE|DATASOURCE|PG|POSTGRES|JDBC|SQL")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConfiguredHost:
    """A host name a container is configured to connect to."""

    variable: str
    host: str
    from_url: bool = False


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClusterName:
    """Where a name lands inside the cluster: Service `service` in namespace `namespace`."""

    service: str
    namespace: str
    fqdn: str
    searched: bool
    """True when the name only resolves through the search path (it was not fully qualified)."""


def configured_hosts(env: Mapping[str, str]) -> list[ConfiguredHost]:
    """Host names in plain env settings: *_HOST variables and URLs/DSNs (passwords dropped)."""
    found = []
    for name, value in env.items():
        value = value.strip()
        if not value:
            continue
        if _URL_VARS.search(name):
            host = url_host(value)
            if host:
                found.append(ConfiguredHost(variable=name, host=host, from_url=True))
        elif _HOST_VARS.search(name) and not value.isdigit():
            found.append(ConfiguredHost(variable=name, host=value.split(",")[0].split(":")[0]))
    return found


def is_db_variable(name: str) -> bool:
    """Whether a variable's name says it is about the database (DB_HOST yes, REDIS_HOST no)."""
    return bool(_DB_WORDS.search(name.upper()))


def url_host(url: str) -> str | None:
    """The host of postgres://u:p@host:5432/db, jdbc:postgresql://host/db or host=... key/values."""
    text = url.removeprefix("jdbc:")
    if "://" in text:
        try:
            return urlsplit(text).hostname or None
        except ValueError:
            return None
    match = re.search(r"(?:^|\s)host=([^\s,]+)", text)
    return match.group(1) if match else None


def cluster_name(
    host: str, client_namespace: str, known_namespaces: set[str]
) -> ClusterName | None:
    """Where `host` lands in cluster DNS for a client in `client_namespace`; None for names that
    are not cluster names (IPs, outside hosts)."""
    if names.is_ip(host):
        return None
    absolute = host.endswith(".")
    parts = host.rstrip(".").lower().split(".")
    if "svc" in parts and (parts[-2:] == CLUSTER_DOMAIN.split(".") or parts[-1] == "svc"):
        i = parts.index("svc")
        if i < 2:
            return None
        svc, ns = parts[i - 2], parts[i - 1]
        fqdn = ".".join([*parts[: i + 1], *CLUSTER_DOMAIN.split(".")])
        return ClusterName(service=svc, namespace=ns, fqdn=fqdn, searched=parts[-1] == "svc")
    if absolute:
        return None
    if len(parts) == 1:
        return ClusterName(
            service=parts[0],
            namespace=client_namespace,
            fqdn=f"{parts[0]}.{client_namespace}.svc.{CLUSTER_DOMAIN}",
            searched=True,
        )
    if len(parts) == 2 and parts[1] in known_namespaces:
        return ClusterName(
            service=parts[0],
            namespace=parts[1],
            fqdn=f"{parts[0]}.{parts[1]}.svc.{CLUSTER_DOMAIN}",
            searched=True,
        )
    return None


def ndots(pod_spec: Mapping[str, object]) -> int:
    """The resolver's ndots for a pod (dnsConfig.options, else the cluster default 5)."""
    config = pod_spec.get("dnsConfig")
    if isinstance(config, dict):
        for option in config.get("options") or []:
            if isinstance(option, dict) and option.get("name") == "ndots":
                try:
                    return int(str(option.get("value")))
                except ValueError:
                    break
    return 5
