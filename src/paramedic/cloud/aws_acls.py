"""AWS network ACLs: may packets cross a subnet's boundary in one direction?

An ACL is stateless and ordered: the entries of one direction are tried by rule number, lowest
first, and the first that matches the protocol, the peer's CIDR and the port decides; rule 32767
(`*`) denies whatever nothing matched. Being stateless, a connection needs four entries to pass:
outbound from the client's subnet and inbound to the server's on the server port, and the
replies back on the client's ephemeral ports. Those ports are a range, so the walk answers for
every port of it: one port denied first is enough to break some connections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.cloud import model

DEFAULT_RULE = 32767


def evaluate(
    acl: Mapping[str, Any],
    source: str,
    *,
    egress: bool,
    peer: str,
    protocol: int,
    ports: tuple[int, int] | None,
    why: str,
) -> model.Step:
    """The verdict of `acl` on packets to (egress) or from (ingress) `peer` on `ports`."""
    acl_id = str(acl.get("NetworkAclId", "?"))
    direction = "outbound" if egress else "inbound"
    entries = sorted(
        (e for e in acl.get("Entries") or [] if bool(e.get("Egress")) == egress),
        key=lambda e: int(e.get("RuleNumber", DEFAULT_RULE)),
    )
    port_text = _ports(ports, protocol)
    facts = {
        "acl": acl_id,
        "egress": egress,
        "peer": peer,
        "protocol": protocol,
        "ports": ports,
        "used": sorted(int(e.get("RuleNumber", 0)) for e in entries),
    }
    layer = f"network ACL {acl_id} {direction} ({why})"
    remaining = [ports] if ports is not None else [(0, 0)]
    for entry in entries:
        if not _protocol_matches(entry, protocol) or not _peer_matches(entry, peer):
            continue
        span = entry.get("PortRange") if ports is not None and _has_ports(entry) else None
        lo, hi = (int(span.get("From", 0)), int(span.get("To", 65535))) if span else (0, 65535)
        hit = [(max(a, lo), min(b, hi)) for a, b in remaining if max(a, lo) <= min(b, hi)]
        if not hit:
            continue
        rule = f"{acl_id} {direction} rule {_number(entry)}: {describe(entry)}"
        if _number(entry) == "*":
            rule = f"{acl_id} {direction} rule * (default): deny all"
        if str(entry.get("RuleAction", "")).lower() != "allow":
            return model.Step(
                layer=layer,
                decision=model.Decision.DENY,
                rule=rule,
                reason=f"first match for {model.protocol_name(protocol)}{_ports(hit[0], protocol)}"
                f" {'to' if egress else 'from'} {peer}",
                source=source,
                facts={**facts, "decided_by": int(entry.get("RuleNumber", DEFAULT_RULE))},
            )
        remaining = [r for a, b in remaining for r in _minus((a, b), (lo, hi))]
        if not remaining:
            return model.Step(
                layer=layer,
                decision=model.Decision.ALLOW,
                rule=rule,
                reason=f"first match for {model.protocol_name(protocol)}{port_text} "
                f"{'to' if egress else 'from'} {peer}",
                source=source,
                facts=facts,
            )
    return model.Step(
        layer=layer,
        decision=model.Decision.DENY,
        rule=f"{acl_id} {direction} rule * (default): deny all",
        reason=f"no numbered entry matches {model.protocol_name(protocol)}"
        f"{_ports(remaining[0], protocol) if ports else ''} {'to' if egress else 'from'} {peer}",
        source=source,
        facts={**facts, "decided_by": DEFAULT_RULE},
    )


def describe(entry: Mapping[str, Any]) -> str:
    """'allow tcp 5432 from 10.0.0.0/16'-style text of one entry."""
    proto = str(entry.get("Protocol", "-1"))
    number = model.protocol_number(proto)
    name = "all traffic" if proto == "-1" or number is None else model.protocol_name(number)
    span = entry.get("PortRange") if _has_ports(entry) else None
    ports = ""
    if isinstance(span, dict):
        lo, hi = span.get("From"), span.get("To")
        ports = f" {lo}" if lo == hi else f" {lo}-{hi}"
    cidr = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock") or "?"
    way = "to" if entry.get("Egress") else "from"
    return f"{str(entry.get('RuleAction', '?')).lower()} {name}{ports} {way} {cidr}"


def _number(entry: Mapping[str, Any]) -> str:
    n = int(entry.get("RuleNumber", DEFAULT_RULE))
    return "*" if n == DEFAULT_RULE else str(n)


def _has_ports(entry: Mapping[str, Any]) -> bool:
    number = model.protocol_number(str(entry.get("Protocol", "-1")))
    return number is not None and model.has_ports(number) and str(entry.get("Protocol")) != "-1"


def _protocol_matches(entry: Mapping[str, Any], protocol: int) -> bool:
    proto = str(entry.get("Protocol", "-1"))
    return proto == "-1" or model.protocol_number(proto) == protocol


def _peer_matches(entry: Mapping[str, Any], peer: str) -> bool:
    cidrs = [str(entry[k]) for k in ("CidrBlock", "Ipv6CidrBlock") if entry.get(k)]
    return model.in_any(peer, cidrs) is not None


def _minus(span: tuple[int, int], cut: tuple[int, int]) -> list[tuple[int, int]]:
    a, b = span
    lo, hi = cut
    out = []
    if a < lo:
        out.append((a, min(b, lo - 1)))
    if b > hi:
        out.append((max(a, hi + 1), b))
    return [(x, y) for x, y in out if x <= y]


def _ports(span: tuple[int, int] | None, protocol: int) -> str:
    if span is None or not model.has_ports(protocol):
        return ""
    lo, hi = span
    return f" {lo}" if lo == hi else f" {lo}-{hi}"
