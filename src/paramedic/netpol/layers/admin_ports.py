"""Ports of admin policy rules, as `policies.PortSpec` values (None: the rule has no ports).

AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1) `ports`: each exactly one of
`portNumber` {protocol (default TCP), port}, `namedPort` (a container port name on the
destination pod, any protocol), `portRange` {protocol (default TCP), start < end}.
ClusterNetworkPolicy (v1alpha2) `protocols`: each exactly one of `tcp` / `udp` / `sctp`
{destinationPort: exactly one of `number`, `range` {start < end}} or `destinationNamedPort`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.netpol import model
from paramedic.netpol.policies import PortSpec

V1 = ("portNumber", "namedPort", "portRange")
V2 = ("tcp", "udp", "sctp", "destinationNamedPort")


def parse(
    kind: str, rule: Mapping[str, Any], where: str, problems: list[str]
) -> tuple[PortSpec, ...] | None:
    field = "protocols" if kind == "ClusterNetworkPolicy" else "ports"
    raw = rule.get(field)
    if raw is None:
        return None
    here = f"{where}.{field}"
    if not isinstance(raw, list) or not 1 <= len(raw) <= (25 if field == "protocols" else 100):
        problems.append(f"{here}: must be a non-empty list")
        return None
    found = []
    for i, item in enumerate(raw):
        at = f"{here}[{i}]"
        spec = _v2(item, at, problems) if field == "protocols" else _v1(item, at, problems)
        if spec is not None:
            found.append(spec)
    return tuple(found)


def _only(item: Any, where: str, allowed: tuple[str, ...], problems: list[str]) -> str | None:
    present = [k for k, v in item.items() if v is not None] if isinstance(item, dict) else []
    if len(present) != 1 or present[0] not in allowed:
        problems.append(f"{where}: must set exactly one of {', '.join(allowed)}")
        return None
    return present[0]


def _number(value: Any, where: str, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        problems.append(f"{where}: must be a port number 1-65535 (got {value!r})")
        return None
    return value


def _protocol(value: Any, where: str, problems: list[str]) -> str | None:
    protocol = value or "TCP"
    if protocol not in model.PROTOCOLS:
        problems.append(f"{where}: unsupported value {protocol!r} (TCP, UDP, SCTP)")
        return None
    return str(protocol)


def _range(raw: Any, where: str, protocol: str | None, problems: list[str]) -> PortSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping (start, end)")
        return None
    start = _number(raw.get("start"), f"{where}.start", problems)
    end = _number(raw.get("end"), f"{where}.end", problems)
    if start is None or end is None or protocol is None:
        return None
    if not start < end:
        problems.append(f"{where}: start {start} must be less than end {end}")
        return None
    return PortSpec(protocol=protocol, port=start, end_port=end)


def _name(value: Any, where: str, problems: list[str]) -> PortSpec | None:
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: must be a port name")
        return None
    return PortSpec(protocol=None, port=value)


def _v1(item: Any, where: str, problems: list[str]) -> PortSpec | None:
    field = _only(item, where, V1, problems)
    if field is None:
        return None
    value, at = item[field], f"{where}.{field}"
    if field == "namedPort":
        return _name(value, at, problems)
    if not isinstance(value, dict):
        problems.append(f"{at}: must be a mapping")
        return None
    protocol = _protocol(value.get("protocol"), f"{at}.protocol", problems)
    if field == "portRange":
        return _range(value, at, protocol, problems)
    port = _number(value.get("port"), f"{at}.port", problems)
    return None if port is None or protocol is None else PortSpec(protocol=protocol, port=port)


def _v2(item: Any, where: str, problems: list[str]) -> PortSpec | None:
    field = _only(item, where, V2, problems)
    if field is None:
        return None
    value, at = item[field], f"{where}.{field}"
    if field == "destinationNamedPort":
        return _name(value, at, problems)
    protocol = field.upper()
    if not isinstance(value, dict) or not isinstance(value.get("destinationPort"), dict):
        problems.append(f"{at}.destinationPort: required (number or range)")
        return None
    at = f"{at}.destinationPort"
    which = _only(value["destinationPort"], at, ("number", "range"), problems)
    if which == "number":
        port = _number(value["destinationPort"]["number"], f"{at}.number", problems)
        return None if port is None else PortSpec(protocol=protocol, port=port)
    if which == "range":
        return _range(value["destinationPort"]["range"], f"{at}.range", protocol, problems)
    return None
