"""The question every cloud evaluator answers, and the shape of its answer.

A `Flow` is one packet direction as a connection starts: source IP, destination IP, IP protocol
number and destination port. An evaluator walks the layers the provider applies (security groups
and network ACLs, firewall rules, NSGs), and returns an `Answer`: one `Step` per layer in the
order the packet meets them, each allowing, denying or unable to tell, with the rule that decided
and the file it came from, as the policy engine explains a NetworkPolicy verdict.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

TCP, UDP, IPIP = 6, 17, 4
_NAMES = {1: "icmp", 4: "ipip", 6: "tcp", 17: "udp", 58: "icmpv6", 50: "esp", 51: "ah", 132: "sctp"}
_NUMBERS = {name: number for number, name in _NAMES.items()}
EPHEMERAL = (32768, 60999)
"""Linux's default ip_local_port_range: the source ports of the clients' connections, which the
return traffic of a stateless filter (an AWS network ACL) must let back in."""


def protocol_number(name: str) -> int | None:
    """'tcp' / 'TCP' / '6' -> 6; None for 'all', '-1', '*' and names we do not know."""
    text = name.strip().lower()
    if text.isdigit():
        return int(text)
    return _NUMBERS.get(text)


def protocol_name(number: int) -> str:
    return _NAMES.get(number, f"IP protocol {number}")


def has_ports(protocol: int) -> bool:
    return protocol in (TCP, UDP, 132)


class Decision(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    src: str
    dst: str
    port: int | None
    protocol: int = TCP
    dst_name: str = ""
    """The host name the client dials, when it has one (an RDS endpoint address)."""

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None and has_ports(self.protocol) else ""
        return f"{self.src} → {self.dst}{port}/{protocol_name(self.protocol)}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One layer's verdict on the flow."""

    layer: str
    """'security groups (inbound) of eni-0abc [sg-db]', 'network ACL acl-1 inbound'."""
    decision: Decision
    reason: str
    rule: str = ""
    """The rule that decided, as a person reads it; '' when no rule matched (then `reason` says
    which default applied)."""
    source: str = ""
    facts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """What a fix needs to name: group ids, the ACL and its free rule numbers, NSG names."""

    def line(self) -> str:
        rule = f" — {self.rule}" if self.rule else ""
        return f"{self.layer}: {self.decision}{rule} ({self.reason})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    provider: str
    flow: Flow
    steps: tuple[Step, ...]

    @property
    def decision(self) -> Decision:
        """Deny when any layer denies; unknown when none denies but one cannot tell; else allow."""
        decisions = {s.decision for s in self.steps}
        if Decision.DENY in decisions:
            return Decision.DENY
        if Decision.UNKNOWN in decisions or not self.steps:
            return Decision.UNKNOWN
        return Decision.ALLOW

    @property
    def deciding(self) -> Step | None:
        """The first step that denies (or, failing that, cannot tell)."""
        for wanted in (Decision.DENY, Decision.UNKNOWN):
            for step in self.steps:
                if step.decision is wanted:
                    return step
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "flow": str(self.flow),
            "allowed": {Decision.ALLOW: True, Decision.DENY: False}.get(self.decision),
            "decision": str(self.decision),
            "layers": [
                {
                    "layer": s.layer,
                    "decision": str(s.decision),
                    "rule": s.rule,
                    "reason": s.reason,
                    "source": s.source,
                }
                for s in self.steps
            ],
        }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Denied:
    """One layer that denied one answer's flow (what a fix command is built from)."""

    answer: Answer
    step: Step


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A fix for one denying layer: the command, how to verify it, how to undo it, and why."""

    layer: str
    run: str
    verify: str
    undo: str
    why: str


def sources(answers: Iterable[Answer]) -> list[str]:
    """The distinct source addresses of some answers, IPv4 first."""
    return sorted({a.flow.src for a in answers}, key=lambda ip: (":" in ip, ip))


def host_cidr(ip: str) -> str:
    """'10.0.1.10' -> '10.0.1.10/32', an IPv6 address -> '/128'."""
    return f"{ip}/128" if ":" in ip else f"{ip}/32"


def address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR (or a bare address as its /32 or /128); None when it is neither."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def in_any(ip: str, cidrs: Iterable[str]) -> str | None:
    """The first of `cidrs` that holds `ip` (of the same IP version), or None."""
    addr = address(ip)
    if addr is None:
        return None
    for cidr in cidrs:
        net = network(cidr)
        if net is not None and net.version == addr.version and addr in net:
            return cidr
    return None


def port_ranges(texts: Iterable[str]) -> list[tuple[int, int]] | None:
    """'5432', '1000-2000', '*' -> [(lo, hi)]; None when a text is not a port or a range."""
    out = []
    for text in texts:
        t = text.strip()
        if t in ("*", ""):
            out.append((0, 65535))
            continue
        lo, _, hi = t.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            return None
        out.append((int(lo), int(hi or lo)))
    return out


def covers(ranges: Iterable[tuple[int, int]], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)
