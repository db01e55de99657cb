"""Calico policy rules: parse and validate one `Rule` (action, protocol, source, destination).

Facts from Calico's reference docs (Rule, EntityRule, Ports) and its API validation:

- `action` is one of Allow, Deny, Pass, Log (exact spelling); Log does not end evaluation.
- `protocol`/`notProtocol`: TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite (any case) or a number 1-255.
- ports are numbers, ``"start:end"`` ranges (start <= end) or port names; a numeric port or
  range needs `protocol` set to one with ports (TCP, UDP, SCTP); named ports need no protocol.
- nets/notNets are CIDRs (a bare address is a /32 or /128), one IP version per rule.
- In a namespaceSelector `global()` must stand alone; a selector may not use `global()`.

What the engine cannot decide is kept as `unmodelled` with the reason, not dropped: HTTP
matches (layer 7), `services` matches, source ports (a client's port is ephemeral), ICMP fields.
Selector composition (namespace scope, service accounts) is done by `scope` from the raw text.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects
from paramedic.netpol.calico import parser, tokens
from paramedic.netpol.calico import selector as sel

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPV6": 58, "SCTP": 132, "UDPLITE": 136}
PORT_PROTOCOLS = frozenset({6, 17, 132})
_PORT_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
_RANGE = re.compile(r"^(\d+):(\d+)$")
_ENTITY_FIELDS = frozenset(
    {"nets", "notNets", "selector", "notSelector", "namespaceSelector", "ports", "notPorts",
     "serviceAccounts", "services"}
)  # fmt: skip
_RULE_FIELDS = frozenset(
    {"action", "protocol", "notProtocol", "icmp", "notICMP", "ipVersion", "source", "destination",
     "http", "metadata"}
)  # fmt: skip


class Action(enum.StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"
    LOG = "Log"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PortMatch:
    """One entry of `ports`/`notPorts`: a number range (low..high) or a port name."""

    low: int = 0
    high: int = 0
    name: str = ""

    def matches(self, port: int, named: Mapping[str, int]) -> bool:
        """`named`: the destination's port numbers by name, for the flow's protocol."""
        if self.name:
            return named.get(self.name) == port
        return self.low <= port <= self.high

    def describe(self) -> str:
        if self.name:
            return self.name
        return str(self.low) if self.low == self.high else f"{self.low}:{self.high}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """One side (source or destination) of a rule, as written; selectors parsed, not scoped."""

    selector: sel.Selector | None = None
    not_selector: sel.Selector | None = None
    namespace_selector: sel.Selector | None = None
    sa_names: tuple[str, ...] | None = None
    sa_selector: sel.Selector | None = None
    nets: tuple[Network, ...] | None = None
    not_nets: tuple[Network, ...] = ()
    ports: tuple[PortMatch, ...] | None = None
    not_ports: tuple[PortMatch, ...] = ()
    unknown: tuple[str, ...] = ()
    """Fields paramedic does not know (a newer Calico's): the rule becomes unmodelled."""
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    index: int
    action: Action
    protocol: int | None = None
    not_protocol: int | None = None
    ip_version: int | None = None
    source: Entity = Entity()
    destination: Entity = Entity()
    unmodelled: str = ""
    """Why the engine cannot decide when this rule matches ('' when it can)."""


def parse_rule(raw: Any, index: int, where: str, problems: list[str]) -> Rule | None:
    """Rule `index` of a policy's ingress or egress list (`where` names it in problems)."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: a rule must be a mapping")
        return None
    action_text = raw.get("action")
    if action_text not in tuple(Action):
        shown = "missing" if action_text is None else f"unknown action {action_text!r}"
        problems.append(f"{where}.action: {shown} (Allow, Deny, Pass, Log)")
        return None
    protocol = _protocol(raw.get("protocol"), f"{where}.protocol", problems)
    not_protocol = _protocol(raw.get("notProtocol"), f"{where}.notProtocol", problems)
    ip_version = raw.get("ipVersion")
    if ip_version not in (None, 4, 6):
        problems.append(f"{where}.ipVersion: must be 4 or 6, not {ip_version!r}")
    source = _entity(raw.get("source"), f"{where}.source", protocol, problems)
    destination = _entity(raw.get("destination"), f"{where}.destination", protocol, problems)
    unmodelled = [f"the field {key!r}" for key in sorted(set(raw) - _RULE_FIELDS)]
    if raw.get("http"):
        unmodelled.append("an HTTP match (layer 7, enforced by the application layer)")
    if raw.get("icmp") or raw.get("notICMP"):
        unmodelled.append("ICMP type/code matches")
    if source is None or destination is None:
        return None
    unmodelled += [f"the field {key!r}" for e in (source, destination) for key in e.unknown]
    if source.raw.get("services") or destination.raw.get("services"):
        unmodelled.append("a Kubernetes `services` match")
    if source.ports is not None or source.not_ports:
        unmodelled.append("source ports (a client's source port is ephemeral)")
    return Rule(
        index=index,
        action=Action(action_text),
        protocol=protocol,
        not_protocol=not_protocol,
        ip_version=ip_version if ip_version in (4, 6) else None,
        source=source,
        destination=destination,
        unmodelled="; ".join(unmodelled),
    )


def _protocol(raw: Any, where: str, problems: list[str]) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        problems.append(f"{where}: {raw!r} is not a protocol")
        return None
    text = str(raw)
    if text.isdigit():
        if 1 <= int(text) <= 255:
            return int(text)
        problems.append(f"{where}: protocol number {text} is outside 1-255")
        return None
    number = PROTOCOL_NUMBERS.get(text.upper())
    if number is None:
        problems.append(
            f"{where}: unknown protocol {raw!r} (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255)"
        )
    return number


def _entity(raw: Any, where: str, protocol: int | None, problems: list[str]) -> Entity | None:
    if raw is None:
        return Entity()
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    before = len(problems)
    namespace_selector = parse_selector(
        raw.get("namespaceSelector"), f"{where}.namespaceSelector", problems
    )
    if (
        namespace_selector
        and namespace_selector.uses(sel.Global)
        and not isinstance(namespace_selector.root, sel.Global)
    ):
        problems.append(f"{where}.namespaceSelector: global() must be the whole selector")
    selector = parse_selector(raw.get("selector"), f"{where}.selector", problems, local=True)
    not_selector = parse_selector(raw.get("notSelector"), f"{where}.notSelector", problems, True)
    sa_names, sa_selector = _service_accounts(raw.get("serviceAccounts"), where, problems)
    entity = Entity(
        selector=selector,
        not_selector=not_selector,
        namespace_selector=namespace_selector,
        sa_names=sa_names,
        sa_selector=sa_selector,
        nets=_nets(raw.get("nets"), f"{where}.nets", problems),
        not_nets=_nets(raw.get("notNets"), f"{where}.notNets", problems) or (),
        ports=_ports(raw.get("ports"), f"{where}.ports", protocol, problems),
        not_ports=_ports(raw.get("notPorts"), f"{where}.notPorts", protocol, problems) or (),
        unknown=tuple(sorted(set(raw) - _ENTITY_FIELDS)),
        raw=raw,
    )
    versions = {n.version for n in (entity.nets or ()) + entity.not_nets}
    if len(versions) > 1:
        problems.append(f"{where}: nets and notNets mix IPv4 and IPv6 CIDRs")
    return entity if len(problems) == before else None


def parse_selector(
    raw: Any, where: str, problems: list[str], local: bool = False
) -> sel.Selector | None:
    """A selector field: None when absent or empty (Calico treats "" as not set)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        problems.append(f"{where}: a selector must be a string, not {type(raw).__name__}")
        return None
    try:
        parsed = parser.parse(raw)
    except tokens.SelectorError as exc:
        problems.append(f"{where}: cannot parse selector {raw!r}: {exc}")
        return None
    if local and parsed.uses(sel.Global):
        problems.append(f"{where}: global() may only be used in a namespaceSelector")
    return parsed


def _service_accounts(
    raw: Any, where: str, problems: list[str]
) -> tuple[tuple[str, ...] | None, sel.Selector | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        problems.append(f"{where}.serviceAccounts: must be a mapping (names, selector)")
        return None, None
    names = raw.get("names")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) and n for n in names)
    ):
        problems.append(f"{where}.serviceAccounts.names: must be a list of names")
        names = None
    found = parse_selector(raw.get("selector"), f"{where}.serviceAccounts.selector", problems)
    return (tuple(names) if names else None), found


def _nets(raw: Any, where: str, problems: list[str]) -> tuple[Network, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list of CIDRs")
        return None
    found = []
    for i, item in enumerate(raw):
        try:
            found.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            problems.append(f"{where}[{i}]: {item!r} is not a CIDR or IP address")
    return tuple(found)


def _ports(
    raw: Any, where: str, protocol: int | None, problems: list[str]
) -> tuple[PortMatch, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list of ports")
        return None
    found = [p for i, item in enumerate(raw) if (p := _port(item, f"{where}[{i}]", problems))]
    numeric = any(not p.name for p in found)
    if numeric and protocol is None:
        problems.append(f"{where}: numeric ports need the rule's protocol (TCP, UDP or SCTP)")
    elif found and protocol is not None and protocol not in PORT_PROTOCOLS:
        problems.append(f"{where}: protocol {protocol} has no ports (use TCP, UDP or SCTP)")
    return tuple(found)


def _port(item: Any, where: str, problems: list[str]) -> PortMatch | None:
    if isinstance(item, bool) or not isinstance(item, int | str):
        problems.append(f"{where}: {item!r} is not a port, range or port name")
        return None
    text = str(item)
    if text.isdigit():
        if int(text) > 65535:
            problems.append(f"{where}: port {text} is above 65535")
            return None
        return PortMatch(low=int(text), high=int(text))
    if match := _RANGE.match(text):
        low, high = int(match[1]), int(match[2])
        if high > 65535 or low > high:
            problems.append(f"{where}: bad port range {text!r} (start:end, start <= end <= 65535)")
            return None
        return PortMatch(low=low, high=high)
    if not _PORT_NAME.match(text):
        problems.append(f"{where}: bad port {text!r} (a number, 'start:end' or a port name)")
        return None
    return PortMatch(name=text)


def describe_entity(entity: Entity) -> str:
    """The entity as written, compactly (for explanations)."""
    parts = [f"{k}: {objects.text(v)}" for k, v in sorted(entity.raw.items())]
    return "{" + ", ".join(parts) + "}" if parts else "anywhere"
