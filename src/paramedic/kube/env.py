"""What a container reads from Secrets and ConfigMaps, and its effective environment.

Answers "which Secrets/keys and ConfigMaps does this container read, and how": as an env var
(`env[].valueFrom.secretKeyRef|configMapKeyRef`), as a whole object (`envFrom` with an optional
prefix), or as files of a volume (`secret`, `configMap`, `projected`), possibly through a `subPath`
mount. How matters: env vars are read once at container start and subPath mounts never update,
while plain volume mounts follow changes (FAILURE-FACTS §6).
Values never leave this module: a `Reference` names objects and keys only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from paramedic.kube import objects, pods

ENV = "env"
ENV_FROM = "envFrom"
VOLUME = "volume"

_REFERENCE = re.compile(r"\$(\$|\(([^)]{0,256})\))")
"""`$$` (an escaped `$`) or `$(NAME)`; bounded, so hostile values expand in linear time."""

Lookup = Callable[[str, str], Mapping[str, Any] | None]
"""(kind, name) -> the Secret/ConfigMap in the pod's namespace, or None."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """One way a container reads a Secret or ConfigMap."""

    container: str
    kind: str
    """'Secret' or 'ConfigMap'."""
    name: str
    key: str | None
    """The key read; None when the whole object is read (envFrom, volume without items)."""
    via: str
    """ENV, ENV_FROM or VOLUME."""
    optional: bool = False
    env_var: str | None = None
    """ENV: the variable's name. ENV_FROM: the prefix ('' when none)."""
    mount_path: str | None = None
    sub_path: str | None = None
    path: str
    """Where in the pod spec the reference sits, as a JSON pointer (for patches)."""

    @property
    def live_updates(self) -> bool:
        """Whether a running container sees a change of the object without a restart."""
        return self.via == VOLUME and not self.sub_path

    def describe(self) -> str:
        target = f"{self.kind} {self.name}" + (f" key {self.key!r}" if self.key else "")
        if self.via == ENV:
            how = f"env var {self.env_var}"
        elif self.via == ENV_FROM:
            how = "envFrom" + (f" with prefix {self.env_var!r}" if self.env_var else "")
        else:
            how = f"volume mount {self.mount_path}" + (
                f" (subPath {self.sub_path})" if self.sub_path else ""
            )
        return f"{target} as {how}" + (" (optional)" if self.optional else "")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EnvVar:
    """One variable of a container's effective environment (a plain value only for `value`)."""

    name: str
    source: str
    """'value', 'secretKeyRef', 'configMapKeyRef', 'fieldRef', 'resourceFieldRef', 'secretRef',
    'configMapRef'."""
    value: str | None = None
    ref_name: str | None = None
    key: str | None = None
    optional: bool = False
    field_path: str | None = None


def references(pod_or_template: Mapping[str, Any], container: str | None = None) -> list[Reference]:
    """Every Secret/ConfigMap read by the containers (or the one named) of a Pod or workload."""
    spec = pods.pod_spec(pod_or_template)
    base = "/spec" if pod_or_template.get("kind") == "Pod" else "/spec/template/spec"
    volumes = {
        str(v.get("name")): v for v in objects.as_list(spec.get("volumes")) if isinstance(v, dict)
    }
    found: list[Reference] = []
    for group in ("initContainers", "containers"):
        for i, c in enumerate(objects.as_list(spec.get(group))):
            if not isinstance(c, dict) or (container is not None and c.get("name") != container):
                continue
            found += _container_refs(c, f"{base}/{group}/{i}", volumes)
    return found


def _container_refs(
    c: Mapping[str, Any], where: str, volumes: Mapping[str, Any]
) -> list[Reference]:
    cname = str(c.get("name", ""))
    found = []
    for i, var in enumerate(objects.as_list(c.get("env"))):
        var = objects.as_dict(var)
        found += _env_refs(
            cname,
            objects.as_dict(var.get("valueFrom")),
            ("secretKeyRef", "configMapKeyRef"),
            via=ENV,
            env_var=str(var.get("name", "")),
            path=f"{where}/env/{i}/valueFrom",
        )
    for i, source in enumerate(objects.as_list(c.get("envFrom"))):
        source = objects.as_dict(source)
        found += _env_refs(
            cname,
            source,
            ("secretRef", "configMapRef"),
            via=ENV_FROM,
            env_var=str(source.get("prefix") or ""),
            path=f"{where}/envFrom/{i}",
        )
    for i, mount in enumerate(objects.as_list(c.get("volumeMounts"))):
        mount = objects.as_dict(mount)
        volume = objects.as_dict(volumes.get(str(mount.get("name"))))
        sub_path = str(mount.get("subPath") or mount.get("subPathExpr") or "") or None
        for kind, name, items, optional in _volume_sources(volume):
            keys = _keys_at(items, sub_path)
            for key in keys:
                found.append(
                    Reference(
                        container=cname,
                        kind=kind,
                        name=name,
                        key=key,
                        via=VOLUME,
                        optional=optional,
                        mount_path=str(mount.get("mountPath", "")),
                        sub_path=sub_path,
                        path=f"{where}/volumeMounts/{i}",
                    )
                )
    return found


def _env_refs(
    cname: str,
    holder: Mapping[str, Any],
    fields: tuple[str, str],
    *,
    via: str,
    env_var: str,
    path: str,
) -> list[Reference]:
    """The Secret and ConfigMap a `valueFrom` (one key) or an `envFrom` entry (all keys) names."""
    found = []
    for field, kind in zip(fields, ("Secret", "ConfigMap"), strict=True):
        sel = objects.as_dict(holder.get(field))
        if sel:
            found.append(
                Reference(
                    container=cname,
                    kind=kind,
                    name=str(sel.get("name", "")),
                    key=str(sel.get("key", "")) if via == ENV else None,
                    via=via,
                    optional=bool(sel.get("optional")),
                    env_var=env_var,
                    path=f"{path}/{field}",
                )
            )
    return found


def _volume_sources(volume: Mapping[str, Any]) -> list[tuple[str, str, list[Any], bool]]:
    """(kind, name, items, optional) of every Secret/ConfigMap a volume projects."""
    projected = objects.as_list(objects.as_dict(volume.get("projected")).get("sources"))
    # A plain secret volume names it `secretName`; everywhere else it is `name`.
    holders = [(volume, "secretName"), *((objects.as_dict(s), "name") for s in projected)]
    out = []
    for holder, secret_name in holders:
        for field, kind, name in (
            ("secret", "Secret", secret_name),
            ("configMap", "ConfigMap", "name"),
        ):
            sel = objects.as_dict(holder.get(field))
            if sel:
                out.append(
                    (
                        kind,
                        str(sel.get(name, "")),
                        objects.as_list(sel.get("items")),
                        bool(sel.get("optional")),
                    )
                )
    return out


def _keys_at(items: list[Any], sub_path: str | None) -> list[str | None]:
    """The keys a mount exposes: all (None) or the listed items; with subPath, only that file."""
    listed = [
        (str(it.get("key", "")), str(it.get("path", ""))) for it in items if isinstance(it, dict)
    ]
    if sub_path is None:
        return [key for key, _ in listed] or [None]
    first = sub_path.split("/", 1)[0]
    if listed:
        return [key for key, path in listed if path == sub_path or path.split("/", 1)[0] == first]
    return [first]


def effective_env(container: Mapping[str, Any], lookup: Lookup | None = None) -> list[EnvVar]:
    """A container's environment in the order the kubelet builds it: envFrom first (later
    sources win), then env (which overrides envFrom). envFrom is expanded only when `lookup`
    finds the object; otherwise it stays one entry named by its prefix."""
    result: dict[str, EnvVar] = {}
    for i, source in enumerate(objects.as_list(container.get("envFrom"))):
        source = objects.as_dict(source)
        prefix = str(source.get("prefix") or "")
        for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            sel = objects.as_dict(source.get(field))
            if not sel:
                continue
            name, optional = str(sel.get("name", "")), bool(sel.get("optional"))
            obj = lookup(kind, name) if lookup else None
            if obj is None:
                result[f"{prefix}*#{i}"] = EnvVar(
                    name=f"{prefix}*", source=field, ref_name=name, optional=optional
                )
                continue
            for key in data_keys(obj):
                result[prefix + key] = EnvVar(
                    name=prefix + key, source=field, ref_name=name, key=key, optional=optional
                )
    for var in objects.as_list(container.get("env")):
        var = objects.as_dict(var)
        name = str(var.get("name", ""))
        value_from = objects.as_dict(var.get("valueFrom"))
        if not value_from:
            result[name] = EnvVar(name=name, source="value", value=str(var.get("value") or ""))
            continue
        for field in ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef"):
            sel = objects.as_dict(value_from.get(field))
            if sel:
                result[name] = EnvVar(
                    name=name,
                    source=field,
                    ref_name=sel.get("name"),
                    key=sel.get("key"),
                    optional=bool(sel.get("optional")),
                    field_path=sel.get("fieldPath") or sel.get("resource"),
                )
                break
    return list(result.values())


def data_keys(obj: Mapping[str, Any]) -> list[str]:
    """Key names of a Secret or ConfigMap (data, stringData, binaryData), sorted; never values."""
    keys: set[str] = set()
    for field in ("data", "stringData", "binaryData"):
        keys.update(str(k) for k in objects.as_dict(obj.get(field)))
    return sorted(keys)


def value_of(container: Mapping[str, Any], var: str) -> str | None:
    """The literal `value` of an env var (for non-secret settings such as DB_HOST), else None."""
    for entry in effective_env(container):
        if entry.name == var and entry.source == "value":
            return entry.value
    return None


def expand(value: str, defined: Mapping[str, str]) -> str:
    """`value` as the kubelet expands it: `$(NAME)` becomes the value of NAME when NAME is
    defined (an earlier variable of the container, or a Service variable), and stays as written
    otherwise; `$$` becomes `$`, so `$$(NAME)` is the literal text `$(NAME)`."""
    if "$" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(1) == "$":
            return "$"
        name = match.group(2)
        return defined[name] if name in defined else match.group(0)

    return _REFERENCE.sub(one, value)


def service_variables(services: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The variables the kubelet gives every container for each Service with a cluster IP (those
    of the pod's namespace, unless `enableServiceLinks: false`, and always `kubernetes` of
    `default`): `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT`, `<NAME>_SERVICE_PORT_<PORT>`, and
    the Docker-link style `<NAME>_PORT`, `<NAME>_PORT_<n>_<PROTO>[_ADDR|_PORT|_PROTO]`."""
    out: dict[str, str] = {}
    for service in services:
        spec = objects.spec(service)
        ip = str(spec.get("clusterIP") or "")
        if not ip or ip == "None":
            continue
        prefix = objects.name(service).upper().replace("-", "_")
        ports = [p for p in objects.as_list(spec.get("ports")) if isinstance(p, dict)]
        out[f"{prefix}_SERVICE_HOST"] = ip
        for i, port in enumerate(ports):
            number, proto = str(port.get("port", "")), str(port.get("protocol") or "TCP")
            url = f"{proto.lower()}://{ip}:{number}"
            if i == 0:
                out[f"{prefix}_SERVICE_PORT"] = number
                out[f"{prefix}_PORT"] = url
            if port.get("name"):
                out[f"{prefix}_SERVICE_PORT_{str(port['name']).upper().replace('-', '_')}"] = number
            link = f"{prefix}_PORT_{number}_{proto.upper()}"
            out.update({link: url, f"{link}_PROTO": proto.lower(), f"{link}_PORT": number})
            out[f"{link}_ADDR"] = ip
    return out
