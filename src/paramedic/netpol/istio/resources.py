"""Istio's AuthorizationPolicy and PeerAuthentication (security.istio.io v1, v1beta1) -> values.

Read as Istio's API (its proto comments, its validation and the authorization builder) states:

- AuthorizationPolicy `action` is ALLOW (default), DENY, AUDIT or CUSTOM (which needs
  `provider`); `selector.matchLabels` and `targetRef(s)` exclude each other; a `from` entry
  needs a non-empty `source`, a `to` entry a non-empty `operation`, a `when` entry a known key
  and `values` or `notValues`; ports are numbers 0-65535; ipBlocks are addresses or CIDRs.
- The annotation `istio.io/dry-run: "true"` makes a policy shadow-only: never enforced.
- PeerAuthentication `mtls.mode` is UNSET (inherit), DISABLE, PERMISSIVE or STRICT;
  `portLevelMtls` (keyed by the workload's port number) needs a `selector`.

A policy Istio's validation rejects is returned as `Invalid` naming every bad field.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects
from paramedic.netpol.istio.fields import OPERATION_FIELDS, SOURCE_FIELDS, WHEN_KEYS, WHEN_PREFIXES

GROUP = "security.istio.io"
ACTIONS = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")
DRY_RUN = "istio.io/dry-run"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One field of a source/operation, or one `when` entry: values OR-ed, notValues excluded."""

    field: str
    """How reports name it: 'principals', 'when[source.ip]'."""
    meaning: str
    """principal, namespace, serviceAccount, trustDomain, ip, port, http or unmodelled."""
    values: tuple[str, ...] = ()
    negated: bool = False


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    index: int
    sources: tuple[tuple[Condition, ...], ...] | None
    """One tuple of conditions per `from` entry (OR-ed); None: no `from` (any source)."""
    operations: tuple[tuple[Condition, ...], ...] | None
    """One tuple per `to` entry (OR-ed); None: no `to` (any port)."""
    when: tuple[Condition, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationPolicy:
    namespace: str
    name: str
    api_version: str
    action: str
    selector: Mapping[str, str] | None
    """matchLabels; None: every workload of the namespace (of the mesh, in the root namespace)."""
    target_refs: bool
    rules: tuple[Rule, ...]
    dry_run: bool
    created: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PeerAuthentication:
    namespace: str
    name: str
    api_version: str
    selector: Mapping[str, str] | None
    mode: str
    """UNSET (inherit the parent's), DISABLE, PERMISSIVE or STRICT."""
    port_modes: Mapping[int, str]
    created: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    kind: str
    namespace: str
    name: str
    problems: tuple[str, ...]


def is_istio(obj: Mapping[str, Any], kind: str) -> bool:
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    return group == GROUP and obj.get("kind") == kind


def authorization_policy(obj: Mapping[str, Any]) -> AuthorizationPolicy | Invalid:
    problems: list[str] = []
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, dict):
        return _invalid(obj, ["spec: must be an object"])
    action = str(spec.get("action") or "ALLOW")
    if action not in ACTIONS:
        problems.append(f"spec.action: unknown action {action!r} (ALLOW, DENY, AUDIT, CUSTOM)")
    if action == "CUSTOM" and not spec.get("provider"):
        problems.append("spec.provider: a CUSTOM policy must name its provider")
    if action != "CUSTOM" and spec.get("provider"):
        problems.append(f"spec.provider: only a CUSTOM policy has one (action is {action})")
    selector = _selector(spec, problems)
    targets = bool(spec.get("targetRef") or spec.get("targetRefs"))
    if targets and selector is not None:
        problems.append("spec.selector: cannot be set together with targetRef(s)")
    raw_rules = spec.get("rules")
    if raw_rules is not None and not isinstance(raw_rules, list):
        problems.append("spec.rules: must be a list")
        raw_rules = []
    parsed = tuple(_rule(i, r, problems) for i, r in enumerate(raw_rules or []))
    if problems:
        return _invalid(obj, problems)
    return AuthorizationPolicy(
        namespace=objects.namespace(obj),
        name=objects.name(obj),
        api_version=str(obj.get("apiVersion")),
        action=action,
        selector=selector,
        target_refs=targets,
        rules=parsed,
        dry_run=str(objects.annotations(obj).get(DRY_RUN, "")).lower() == "true",
        created=objects.text(objects.meta(obj).get("creationTimestamp")),
    )


def peer_authentication(obj: Mapping[str, Any]) -> PeerAuthentication | Invalid:
    problems: list[str] = []
    spec = obj.get("spec") if obj.get("spec") is not None else {}
    if not isinstance(spec, dict):
        return _invalid(obj, ["spec: must be an object"])
    selector = _selector(spec, problems)
    mode = _mode(spec.get("mtls"), "spec.mtls", problems)
    port_modes: dict[int, str] = {}
    levels = spec.get("portLevelMtls")
    if levels is not None and not isinstance(levels, dict):
        problems.append("spec.portLevelMtls: must be a map of port number to mtls")
    elif levels:
        if selector is None:
            problems.append("spec.portLevelMtls: applies only to a policy with a selector")
        for key, value in levels.items():
            port = _port(key)
            if port is None or port == 0:
                problems.append(f"spec.portLevelMtls[{key}]: not a port number 1-65535")
                continue
            port_modes[port] = _mode(value, f"spec.portLevelMtls[{key}]", problems)
    if problems:
        return _invalid(obj, problems)
    return PeerAuthentication(
        namespace=objects.namespace(obj),
        name=objects.name(obj),
        api_version=str(obj.get("apiVersion")),
        selector=selector,
        mode=mode,
        port_modes=port_modes,
        created=objects.text(objects.meta(obj).get("creationTimestamp")),
    )


def _mode(mtls: Any, where: str, problems: list[str]) -> str:
    if mtls is None:
        return "UNSET"
    if not isinstance(mtls, dict):
        problems.append(f"{where}: must be an object with a mode")
        return "UNSET"
    mode = str(mtls.get("mode") or "UNSET")
    if mode not in MODES:
        problems.append(f"{where}.mode: unknown mode {mode!r} (UNSET, DISABLE, PERMISSIVE, STRICT)")
    return mode


def _selector(spec: Mapping[str, Any], problems: list[str]) -> Mapping[str, str] | None:
    raw = spec.get("selector")
    if raw is None:
        return None
    labels = raw.get("matchLabels") if isinstance(raw, dict) else None
    if not isinstance(raw, dict) or (labels is not None and not isinstance(labels, dict)):
        problems.append("spec.selector.matchLabels: must be a map of label to value")
        return None
    return {str(k): objects.text(v) for k, v in (labels or {}).items()} or None


def _rule(index: int, raw: Any, problems: list[str]) -> Rule:
    where = f"spec.rules[{index}]"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return Rule(index=index, sources=None, operations=None)
    sources = _entries(raw, "from", "source", SOURCE_FIELDS, where, problems)
    operations = _entries(raw, "to", "operation", OPERATION_FIELDS, where, problems)
    when = []
    for i, entry in enumerate(objects.as_list(raw.get("when"))):
        here = f"{where}.when[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{here}: must be an object")
            continue
        key = str(entry.get("key") or "")
        meaning = WHEN_KEYS.get(key) or next(
            (m for p, m in WHEN_PREFIXES.items() if key.startswith(p)), None
        )
        if meaning is None:
            problems.append(f"{here}.key: unknown attribute {key!r}")
            continue
        values = _strings(entry.get("values"), f"{here}.values", problems)
        negatives = _strings(entry.get("notValues"), f"{here}.notValues", problems)
        if not values and not negatives:
            problems.append(f"{here}: needs values or notValues")
        field = f"when[{key}]"
        when += _conditions(field, meaning, values, negatives, here, problems)
    return Rule(index=index, sources=sources, operations=operations, when=tuple(when))


def _entries(
    raw: Mapping[str, Any],
    list_field: str,
    item_field: str,
    fields: Mapping[str, str],
    where: str,
    problems: list[str],
) -> tuple[tuple[Condition, ...], ...] | None:
    entries = raw.get(list_field)
    if not entries:
        return None
    if not isinstance(entries, list):
        problems.append(f"{where}.{list_field}: must be a list")
        return None
    found = []
    for i, entry in enumerate(entries):
        here = f"{where}.{list_field}[{i}].{item_field}"
        body = entry.get(item_field) if isinstance(entry, dict) else None
        if not isinstance(body, dict) or not any(body.get(f) for f in fields):
            problems.append(f"{here}: must be set and not empty")
            continue
        unknown = sorted(set(body) - set(fields))
        if unknown:
            problems.append(f"{here}.{unknown[0]}: unknown field")
        conditions: list[Condition] = []
        for name, meaning in fields.items():
            values = _strings(body.get(name), f"{here}.{name}", problems)
            if values:
                conditions += _conditions(
                    name, meaning, values, (), f"{here}.{name}", problems, name.startswith("not")
                )
        found.append(tuple(conditions))
    return tuple(found)


def _conditions(
    field: str,
    meaning: str,
    values: tuple[str, ...],
    negatives: tuple[str, ...],
    where: str,
    problems: list[str],
    negated: bool = False,
) -> list[Condition]:
    for value in (*values, *negatives):
        if meaning == "port" and _port(value) is None:
            problems.append(f"{where}: {value!r} is not a port number 0-65535")
        if meaning == "ip" and not _is_network(value):
            problems.append(f"{where}: {value!r} is not an IP address or CIDR")
    out = []
    if values:
        out.append(Condition(field=field, meaning=meaning, values=values, negated=negated))
    if negatives:
        out.append(
            Condition(field=f"{field} notValues", meaning=meaning, values=negatives, negated=True)
        )
    return out


def _strings(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, (str, int)) for v in raw):
        problems.append(f"{where}: must be a list of strings")
        return ()
    return tuple(str(v) for v in raw)


def _port(value: Any) -> int | None:
    text = str(value)
    if not text.isdigit() or int(text) > 65535:
        return None
    return int(text)


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An ipBlocks entry (an address is its /32 or /128; host bits are masked as Envoy does)."""
    return ipaddress.ip_network(value, strict=False)


def _invalid(obj: Mapping[str, Any], problems: list[str]) -> Invalid:
    return Invalid(
        kind=str(obj.get("kind")),
        namespace=objects.namespace(obj),
        name=objects.name(obj),
        problems=tuple(problems),
    )
