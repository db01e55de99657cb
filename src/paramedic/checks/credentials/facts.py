"""What the evidence says about the client's database credentials, for the `credentials` check.

- `missing_refs`: Secret/ConfigMap references of the workload whose object or key does not exist,
  corroborated by the pods' CreateContainerConfigError state and kubelet Events.
- `stale_reads`: Secrets changed (newest managedFields time, else creationTimestamp) after the
  containers that read them as env vars, envFrom or subPath mounts started: those keep the old
  value until a restart (FAILURE-FACTS §6).
- `describe_secret`: key names and digests, never values (the loader already replaced values by
  `hmac:<12 hex> len=N`, or `sha256:...` in older captures; anything else is digested here).
Not a check: helpers of checks/credentials.py.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.evidence import model as evidence_model
from paramedic.evidence import redact
from paramedic.kube import env, objects, pods

Obj = Mapping[str, Any]
_NOT_FOUND = re.compile(r'(secret|configmap) "([^"]+)" not found', re.IGNORECASE)
_NO_KEY = re.compile(r"couldn't find key (\S+) in (Secret|ConfigMap) (\S+?)/(\S+)", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Missing:
    ref: env.Reference
    what: str
    """'object' when the Secret/ConfigMap is absent, 'key' when only the key is."""
    certain: bool
    """The object store or the kubelet says so (not merely absent from a partial snapshot)."""
    existing_keys: tuple[str, ...] = ()
    closest: str | None = None
    """An existing key (or, for a missing object, an existing object name) that looks meant."""
    cites: tuple[model.Cite, ...] = ()
    written_by: str = ""
    """Who last wrote the existing object (an operator such as external-secrets reverts
    hand edits)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Stale:
    secret: Obj
    changed_at: datetime.datetime
    changed_by: str
    refs: tuple[env.Reference, ...]
    pods: tuple[tuple[str, datetime.datetime], ...]
    """(pod name, container start) of pods started before the change."""


def timestamp(value: Any) -> datetime.datetime | None:
    """An API timestamp (string, or a datetime when YAML was parsed with timestamps on)."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DATA_FIELDS = ("f:data", "f:stringData", "f:binaryData")


def last_change(obj: Obj) -> tuple[datetime.datetime | None, str]:
    """(newest write time of the data, who wrote it) from managedFields, else creationTimestamp.

    An entry whose fieldsV1 is recorded but owns no data field (a label or annotation edit)
    does not count: it changed nothing a container reads. Entries without fieldsV1 count.
    """
    best: tuple[datetime.datetime | None, str] = (
        timestamp(objects.meta(obj).get("creationTimestamp")),
        "created",
    )
    for entry in objects.as_list(objects.meta(obj).get("managedFields")):
        entry = objects.as_dict(entry)
        fields = entry.get("fieldsV1")
        if isinstance(fields, dict) and not any(f in fields for f in _DATA_FIELDS):
            continue
        moment = timestamp(entry.get("time"))
        if moment is not None and (best[0] is None or moment > best[0]):
            best = (moment, str(entry.get("manager") or "unknown manager"))
    return best


def describe_secret(obj: Obj) -> str:
    """'keys password (hmac:7c41d2e9b05a len=32), username (...)' - never a value."""
    data = redact.secret(dict(obj)).get("data") or {}
    keys = env.data_keys(obj)
    if not keys:
        return "no keys"
    return "keys " + ", ".join(f"{k} ({data[k]})" if k in data else k for k in keys)


def kubelet_messages(ev: evidence_model.Evidence, pod_list: Sequence[Obj]) -> list[tuple[str, str]]:
    """(message, source) of CreateContainerConfigError states and 'Failed' Events of these pods."""
    out: list[tuple[str, str]] = []
    names = {(objects.namespace(p), objects.name(p)) for p in pod_list}
    for pod in pod_list:
        for _, reason, message in pods.waiting_reasons(pod):
            if reason == "CreateContainerConfigError":
                out.append((message or reason, objects.ref(pod)))
    for event in clues.pod_events(ev, pod_list):
        involved = objects.as_dict(event.get("involvedObject"))
        message = str(event.get("message") or "")
        where = str(involved.get("namespace") or objects.namespace(event))
        if (where, str(involved.get("name"))) in names and (
            _NOT_FOUND.search(message) or _NO_KEY.search(message)
        ):
            count = event.get("count")
            out.append(
                (
                    message + (f" (x{count})" if isinstance(count, int) and count > 1 else ""),
                    objects.ref(event),
                )
            )
    return out


def missing_refs(
    ev: evidence_model.Evidence, template: Obj, pod_list: Sequence[Obj], ns: str
) -> list[Missing]:
    messages = kubelet_messages(ev, pod_list)
    refs = env.references(template)
    # Whether absence means "does not exist": ConfigMaps of the namespace are listed (the check's
    # needs); Secrets are only ever read by name, so one referenced Secret must have arrived.
    gathered = {
        "ConfigMap": bool(ev.kind("ConfigMap", ns)),
        "Secret": any(ev.get("Secret", ns, r.name) for r in refs if r.kind == "Secret"),
    }
    found: list[Missing] = []
    seen: set[tuple[str, str, str | None]] = set()
    for ref in refs:
        if ref.optional or (ref.kind, ref.name, ref.key) in seen:
            continue
        seen.add((ref.kind, ref.name, ref.key))
        obj = ev.get(ref.kind, ns, ref.name)
        said = tuple(model.Cite(text=m, source=s) for m, s in messages if _mentions(m, ref))
        if obj is None:
            # a near name among the namespace's ConfigMaps (listed); Secrets are never listed
            listed = ev.kind(ref.kind, ns) if ref.kind == "ConfigMap" else ()
            others = [objects.name(o) for o in listed]
            close = difflib.get_close_matches(ref.name, others, n=1, cutoff=0.75)
            if said or gathered[ref.kind]:
                found.append(
                    Missing(
                        ref=ref,
                        what="object",
                        certain=bool(said) or gathered[ref.kind],
                        closest=close[0] if close else None,
                        cites=said,
                    )
                )
            continue
        keys = tuple(env.data_keys(obj))
        if ref.key and ref.key not in keys and (keys or said):
            found.append(
                Missing(
                    ref=ref,
                    what="key",
                    certain=True,
                    existing_keys=keys,
                    closest=_closest_key(ref.key, keys),
                    cites=said,
                    written_by=last_change(obj)[1],
                )
            )
    return found


def _mentions(message: str, ref: env.Reference) -> bool:
    m = _NOT_FOUND.search(message)
    if m and m.group(2) == ref.name and m.group(1).lower() == ref.kind.lower():
        return True
    k = _NO_KEY.search(message)
    return bool(k and k.group(1) == ref.key and k.group(4) == ref.name)


def _closest_key(wanted: str, keys: Sequence[str]) -> str | None:
    def norm(k: str) -> str:
        return re.sub(r"[^a-z0-9]", "", k.lower())

    contains = [k for k in keys if norm(wanted) in norm(k) or norm(k) in norm(wanted)]
    if len(contains) == 1:
        return contains[0]
    close = difflib.get_close_matches(wanted, list(keys), n=1, cutoff=0.6)
    return close[0] if close else None


def stale_reads(
    ev: evidence_model.Evidence, template: Obj, pod_list: Sequence[Obj], ns: str
) -> list[Stale]:
    by_secret: dict[str, list[env.Reference]] = {}
    for ref in env.references(template):
        if ref.kind == "Secret" and not ref.live_updates:
            by_secret.setdefault(ref.name, []).append(ref)
    found = []
    for name, refs in sorted(by_secret.items()):
        secret = ev.get("Secret", ns, name)
        changed_at, manager = last_change(secret) if secret is not None else (None, "")
        if secret is None or changed_at is None:
            continue
        containers = {r.container for r in refs}
        old = []
        for pod in pod_list:
            starts = [
                moment
                for cs in pods.container_statuses(pod)
                if str(cs.get("name")) in containers
                if (
                    moment := timestamp(
                        objects.as_dict(objects.as_dict(cs.get("state")).get("running")).get(
                            "startedAt"
                        )
                    )
                )
                is not None
            ]
            if starts and min(starts) < changed_at:
                old.append((objects.name(pod), min(starts)))
        if old:
            found.append(
                Stale(
                    secret=secret,
                    changed_at=changed_at,
                    changed_by=manager,
                    refs=tuple(refs),
                    pods=tuple(old),
                )
            )
    return found
