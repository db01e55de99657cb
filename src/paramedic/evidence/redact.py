"""The redaction boundary: no credential enters Evidence, so none can leave in a report, a
capture, a gap or an error line.

Everything that enters Evidence passes here first (the bundle loader, the live gatherer):
- a Secret keeps its key names; each value becomes a keyed digest (`digests`), so a rotated
  Secret remains visible (its digest changes) and copies can be compared within one run;
- an env var or ConfigMap key whose *name* says credential (DB_PASSWORD, API_TOKEN, tls.key) is
  digested the same way; every other env value, ConfigMap value, container command and
  argument, probe and hook command, annotation, Event message and termination message loses
  the credentials its *text* holds (`credtext.mask`: DSN user:password parts, password=...,
  bearer tokens, ...), so DB_HOST and a DATABASE_URL's host stay readable;
- the `kubectl.kubernetes.io/last-applied-configuration` annotation, a copy of the whole object
  as applied (literal env passwords included), is dropped from every object;
- log lines and gap lines are masked (`log_line`, `text`).
Every step is idempotent: redacting redacted evidence changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any, TypeVar, cast

from paramedic.evidence import credtext, digests, logscan

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
_STATUS_LISTS = ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")
_POD_SPEC_PATH = ("spec", "template", "jobTemplate", *_CONTAINER_LISTS, *_STATUS_LISTS)
_T = TypeVar("_T")
_POD_SPEC_DEPTH = 6
"""How deep a pod spec may sit in an object (CronJob: spec.jobTemplate.spec.template.spec)."""


def is_digest(value: Any) -> bool:
    return digests.is_digest(value)


def digest(raw: bytes) -> str:
    return digests.digest(raw)


def text(value: str) -> str:
    """A line of paramedic's own (a gap, an error) with any credential it quotes masked."""
    return credtext.mask(value, prose=True)


def log_line(line: str) -> str:
    """`line` with credentials masked; everything else, error texts included, unchanged."""
    return credtext.mask(line)


def log_lines(lines: list[str]) -> tuple[str, ...]:
    return tuple(credtext.mask(line) for line in lines)


def log_text(text: str) -> tuple[str, ...]:
    """A container log as it enters the evidence: its lines, each capped at
    `logscan.MAX_LINE_CHARS`, credentials masked."""
    return log_lines(logscan.lines(text))


def strings(value: _T) -> _T:
    """`value` (a report: frozen dataclasses, dicts, lists, tuples) with every string in it
    masked: the last pass before anything is rendered, in whichever format."""
    return cast("_T", _strings(value))


def _strings(value: Any) -> Any:
    if type(value) is str:  # not a StrEnum: verdicts are never text to mask
        return credtext.mask(value, prose=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f for f in dataclasses.fields(value) if f.init]
        return dataclasses.replace(
            value, **{f.name: _strings(getattr(value, f.name)) for f in fields}
        )
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_strings(v) for v in value)
    return value


def entering(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as it may enter Evidence: a redacted copy where anything changes (the input is
    never changed), else `obj` itself, so a big dump costs little more than a walk."""
    out = obj
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and isinstance(annotations, dict) and annotations:
        kept = {k: _masked(v) for k, v in annotations.items() if k != _LAST_APPLIED}
        if kept != annotations:
            out = {**obj, "metadata": {**meta, "annotations": kept}}
    kind = obj.get("kind")
    if kind == "Secret":
        return _secret_data(dict(out))
    if kind == "ConfigMap":
        return _config_map_data(dict(out))
    message = obj.get("message")
    if kind == "Event" and isinstance(message, str) and credtext.mask(message) != message:
        out = {**out, "message": credtext.mask(message)}
    for field in ("spec", "status", "template"):
        value = obj.get(field)
        if isinstance(value, dict):
            walked = _walk(value, _POD_SPEC_DEPTH)
            if walked is not value:
                out = {**out, field: walked}
    return out


def secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Secret with every value replaced by its digest (idempotent)."""
    return entering(obj)


def objects(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`items`, each as it may enter Evidence."""
    return [entering(o) for o in items]


# --- Secrets and ConfigMaps -------------------------------------------------------------------


def _secret_data(out: dict[str, Any]) -> dict[str, Any]:
    data = out.get("data")
    if isinstance(data, dict):
        out["data"] = {str(k): _digest_encoded(v) for k, v in data.items()}
    string_data = out.get("stringData")
    if isinstance(string_data, dict):
        out["stringData"] = {str(k): digests.of_text(v) for k, v in string_data.items()}
    return out


def _config_map_data(out: dict[str, Any]) -> dict[str, Any]:
    data = out.get("data")
    if isinstance(data, dict):
        out["data"] = {
            str(k): digests.of_text(v) if credtext.is_credential_name(str(k)) else _masked(v)
            for k, v in data.items()
        }
    binary = out.get("binaryData")
    if isinstance(binary, dict):
        out["binaryData"] = {str(k): _digest_encoded(v) for k, v in binary.items()}
    return out


def _digest_encoded(value: Any) -> str:
    """The digest of a base64 `data` value (decoded first; text that is not base64 as is)."""
    if digests.is_digest(value):
        return str(value)
    encoded = "" if value is None else str(value)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raw = encoded.encode("utf-8")
    return digests.digest(raw)


# --- pod specs wherever they sit (Pod, workload templates, CronJob, PodTemplate) -------------


def _walk(node: dict[str, Any], depth: int) -> dict[str, Any]:
    """`node` with the containers of every pod spec under it redacted; only the paths where pod
    specs sit are followed (spec, template, jobTemplate), so a big dump stays fast."""
    out = node
    for key in _POD_SPEC_PATH:
        value = node.get(key)
        if value is None:
            continue
        if key in _CONTAINER_LISTS and isinstance(value, list):
            new = [_container(c) if isinstance(c, dict) else c for c in value]
            if any(a is not b for a, b in zip(new, value, strict=True)):
                out = out if out is not node else dict(node)
                out[key] = new
        elif key in _STATUS_LISTS and isinstance(value, list):
            new = [_status(c) if isinstance(c, dict) else c for c in value]
            if any(a is not b for a, b in zip(new, value, strict=True)):
                out = out if out is not node else dict(node)
                out[key] = new
        elif isinstance(value, dict) and depth > 0 and key in ("spec", "template", "jobTemplate"):
            walked = _walk(value, depth - 1)
            if walked is not value:
                out = out if out is not node else dict(node)
                out[key] = walked
    return out


def _status(status: dict[str, Any]) -> dict[str, Any]:
    """A container status with the messages of its states masked (a crash may print a DSN)."""
    out = status
    for field in ("state", "lastState"):
        states = status.get(field)
        if not isinstance(states, dict):
            continue
        for name, state in states.items():
            if isinstance(state, dict) and isinstance(state.get("message"), str):
                masked = credtext.mask(state["message"])
                if masked != state["message"]:
                    out = out if out is not status else dict(status)
                    out[field] = {**out[field], name: {**state, "message": masked}}
    return out


def _container(c: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if isinstance(c.get("env"), list):
        changes["env"] = [_env_var(v) if isinstance(v, dict) else v for v in c["env"]]
    for field in ("command", "args"):
        if isinstance(c.get(field), list):
            changes[field] = [_masked(a) for a in c[field]]
    for field in _PROBES:
        if isinstance(c.get(field), dict):
            changes[field] = _handler(c[field])
    lifecycle = c.get("lifecycle")
    if isinstance(lifecycle, dict):
        changes["lifecycle"] = {
            k: _handler(v) if isinstance(v, dict) else v for k, v in lifecycle.items()
        }
    changed = {k: v for k, v in changes.items() if v != c[k]}
    return {**c, **changed} if changed else c


def _env_var(var: dict[str, Any]) -> dict[str, Any]:
    if "value" not in var:
        return var
    name = str(var.get("name", ""))
    value = var["value"]
    if credtext.is_credential_name(name):
        return {**var, "value": digests.of_text(value)}
    return {**var, "value": _masked(value)}


def _handler(probe: dict[str, Any]) -> dict[str, Any]:
    """A probe or lifecycle hook: exec commands masked, credential HTTP headers digested."""
    out = dict(probe)
    exec_ = probe.get("exec")
    if isinstance(exec_, dict) and isinstance(exec_.get("command"), list):
        out["exec"] = {**exec_, "command": [_masked(a) for a in exec_["command"]]}
    http = probe.get("httpGet")
    if isinstance(http, dict) and isinstance(http.get("httpHeaders"), list):
        out["httpGet"] = {
            **http,
            "httpHeaders": [_header(h) if isinstance(h, dict) else h for h in http["httpHeaders"]],
        }
    return out


def _header(header: dict[str, Any]) -> dict[str, Any]:
    name = str(header.get("name", ""))
    if credtext.is_credential_name(name) or name.lower() in ("cookie", "authorization"):
        return {**header, "value": digests.of_text(header.get("value"))}
    return {**header, "value": _masked(header.get("value"))}


def _masked(value: Any) -> Any:
    return credtext.mask(value) if isinstance(value, str) else value
