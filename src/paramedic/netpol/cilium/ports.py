"""One Cilium rule's `toPorts` (and `icmps`), parsed and checked into port specs.

Facts from Cilium's policy API (pkg/policy/api: port rules and their validation):

- A port is a number 0-65535 (0: every port) or an IANA service name (a named port, compared
  lower-cased); `endPort` makes a range; `protocol` is TCP, UDP, SCTP, ICMP, ICMPv6 or ANY (the
  default), any case. At most 40 ports per `toPorts` item. `icmps` and `toPorts` never share a
  rule. L7 `rules` apply to TCP only (DNS also UDP), DNS rules only on egress.
- A rule without `toPorts` admits every port; one with only `icmps` never admits a TCP, UDP or
  SCTP connection. L7 rules other than DNS are judged per request by Cilium's proxy: the
  connection opens, so the port counts, and the rule is listed as not evaluated beyond that.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from paramedic.netpol import policies

PROTOCOLS = {"TCP": "TCP", "UDP": "UDP", "SCTP": "SCTP", "ICMP": "ICMP", "ICMPV6": "ICMPv6"}
MAX_PORTS = 40
_IANA = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class L4:
    ports: tuple[policies.PortSpec, ...] | None
    """None: every port and protocol."""
    unmodelled: tuple[str, ...] = ()


def l4(rule: Mapping[str, Any], where: str, problems: list[str], *, ingress: bool) -> L4:
    raw = rule.get("toPorts")
    if rule.get("icmps") and raw:
        problems.append(f"{where}: icmps and toPorts cannot share a rule")
        return L4(ports=())
    if rule.get("icmps"):
        return L4(ports=())  # ICMP only: never a TCP, UDP or SCTP connection
    if raw is None or raw == []:
        return L4(ports=None)
    if not isinstance(raw, list):
        problems.append(f"{where}.toPorts: must be a list")
        return L4(ports=())
    specs: list[policies.PortSpec] = []
    notes: list[str] = []
    for i, item in enumerate(raw):
        here = f"{where}.toPorts[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{here}: must be a mapping")
            continue
        ports = item.get("ports")
        if ports is not None and not isinstance(ports, list):
            problems.append(f"{here}.ports: must be a list")
            continue
        if len(ports or []) > MAX_PORTS:
            problems.append(
                f"{here}.ports: too many ports ({len(ports or [])}, at most {MAX_PORTS})"
            )
            continue
        l7 = _l7(item.get("rules"), here, problems, ingress=ingress)
        for j, port in enumerate(ports or []):
            spec = _port(port, f"{here}.ports[{j}]", problems)
            if spec is None:
                continue
            if l7 and l7 != "dns" and spec.protocol != "TCP":
                problems.append(f"{here}.ports[{j}]: L7 rules apply to TCP only")
                continue
            specs.append(spec)
        if l7 and l7 != "dns":
            notes.append(
                f"{here}.rules: {l7} rules are judged per request by Cilium's proxy "
                "(the connection opens; requests may still be denied)"
            )
        for extra in ("listener", "terminatingTLS", "originatingTLS", "serverNames"):
            if item.get(extra):
                notes.append(f"{here}.{extra}: handled by Cilium's proxy, not evaluated")
    return L4(ports=tuple(specs), unmodelled=tuple(notes))


def _l7(raw: Any, here: str, problems: list[str], *, ingress: bool) -> str:
    """The L7 protocol of a `rules` block ('' when none)."""
    if raw is None:
        return ""
    if not isinstance(raw, dict):
        problems.append(f"{here}.rules: must be a mapping")
        return ""
    kinds = [k for k in ("http", "kafka", "dns", "l7proto") if raw.get(k) is not None]
    if len(kinds) > 1:
        problems.append(f"{here}.rules: several L7 protocols in one rule ({', '.join(kinds)})")
        return ""
    if kinds == ["dns"] and ingress:
        problems.append(f"{here}.rules.dns: DNS rules are not allowed on ingress")
        return ""
    return kinds[0] if kinds else ""


def _port(raw: Any, here: str, problems: list[str]) -> policies.PortSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{here}: must be a mapping")
        return None
    proto_text = str(raw.get("protocol") or "ANY").upper()
    if proto_text != "ANY" and proto_text not in PROTOCOLS:
        problems.append(
            f"{here}.protocol: unsupported value {raw.get('protocol')!r} "
            "(TCP, UDP, SCTP, ICMP, ICMPv6, ANY)"
        )
        return None
    protocol = None if proto_text == "ANY" else PROTOCOLS[proto_text]
    port = raw.get("port")
    if port is None or port == "" or isinstance(port, bool):
        problems.append(f"{here}.port: required (a number or a port name)")
        return None
    text = str(port).strip()
    if text.isdigit():
        number = int(text)
        if number > 65535:
            problems.append(f"{here}.port: {number} must be between 0 and 65535")
            return None
        end = raw.get("endPort")
        if end is not None and (isinstance(end, bool) or not isinstance(end, int) or end > 65535):
            problems.append(f"{here}.endPort: must be a number up to 65535")
            return None
        if number == 0:
            return policies.PortSpec(protocol=protocol, port=None)
        if end is not None and end > number:
            return policies.PortSpec(protocol=protocol, port=number, end_port=end)
        return policies.PortSpec(protocol=protocol, port=number)
    name = text.lower()
    if not _IANA.match(name) or "--" in name or not any(c.isalpha() for c in name):
        problems.append(f"{here}.port: {port!r} is neither a port number nor a port name")
        return None
    return policies.PortSpec(protocol=protocol, port=name)
