"""AWS security groups: may a flow leave (egress) or enter (ingress) an interface?

Security groups only allow: the interface's groups are one union of rules, and a flow passes
when any rule of any of them matches its protocol, port and peer. A peer matches by IPv4 or IPv6
CIDR, by a prefix list's entries, or by a referenced group, which means every interface that
carries that group (matched on its private addresses). They are stateful: the replies of an
allowed connection come back without a rule, so only the opening direction is evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.cloud import aws_inventory, model

_ALL = ("-1", "all")


def evaluate(
    inv: aws_inventory.Inventory,
    iface: aws_inventory.Interface,
    flow: model.Flow,
    *,
    inbound: bool,
) -> model.Step:
    """Ingress on the destination's interface (`inbound`), or egress on the source's."""
    peer = flow.src if inbound else flow.dst
    direction = "inbound" if inbound else "outbound"
    layer = f"security groups ({direction}) of {iface.label} [{', '.join(iface.groups) or 'none'}]"
    facts = {"groups": iface.groups, "interface": iface.label, "direction": direction}
    doubts: list[str] = []
    sources = []
    near: list[str] = []  # rules for this protocol and port, naming other peers
    for gid in iface.groups:
        found = inv.groups.get(gid)
        if found is None:
            doubts.append(f"{gid} is not in the security groups file")
            continue
        group, source = found
        sources.append(source)
        perms = group.get("IpPermissions" if inbound else "IpPermissionsEgress") or []
        for perm in perms:
            if not _protocol_matches(perm, flow):
                continue
            matched, doubt = _peer(inv, perm, peer)
            if matched:
                return model.Step(
                    layer=layer,
                    decision=model.Decision.ALLOW,
                    rule=f"{gid} {direction}: {describe(perm)} {'from' if inbound else 'to'} "
                    f"{matched}",
                    reason="stateful: the replies return without a rule",
                    source=source,
                    facts=facts,
                )
            if doubt:
                doubts.append(f"{gid}: {doubt}")
            near += [
                f"{gid} {describe(perm)} {'from' if inbound else 'to'} {p}" for p in _peers(perm)
            ]
    if doubts:
        return model.Step(
            layer=layer,
            decision=model.Decision.UNKNOWN,
            reason="; ".join(doubts),
            source=", ".join(dict.fromkeys(sources)),
            facts=facts,
        )
    return model.Step(
        layer=layer,
        decision=model.Decision.DENY,
        reason=f"no {direction} rule of {', '.join(iface.groups) or 'any group'} allows "
        f"{model.protocol_name(flow.protocol)}"
        + (f" {flow.port}" if flow.port is not None and model.has_ports(flow.protocol) else "")
        + f" {'from' if inbound else 'to'} {peer}"
        + (f"; the rules for it name only: {'; '.join(near)}" if near else "")
        + " (security groups only allow; anything unmatched is dropped)",
        source=", ".join(dict.fromkeys(sources)),
        facts=facts,
    )


def describe(perm: Mapping[str, Any]) -> str:
    """'tcp 5432', 'tcp 1024-65535', 'all traffic', 'ipip'."""
    proto = str(perm.get("IpProtocol", "-1"))
    if proto in _ALL:
        return "all traffic"
    number = model.protocol_number(proto)
    name = model.protocol_name(number) if number is not None else proto
    if number is None or not model.has_ports(number):
        return name
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if lo in (None, -1) or (lo == 0 and hi == 65535):
        return f"{name} all ports"
    return f"{name} {lo}" if lo == hi else f"{name} {lo}-{hi}"


def _peers(perm: Mapping[str, Any]) -> list[str]:
    """Every peer a rule names, as text."""
    out = [str(r.get("CidrIp")) for r in perm.get("IpRanges") or []]
    out += [str(r.get("CidrIpv6")) for r in perm.get("Ipv6Ranges") or []]
    out += [f"prefix list {r.get('PrefixListId')}" for r in perm.get("PrefixListIds") or []]
    out += [f"group {r.get('GroupId')}" for r in perm.get("UserIdGroupPairs") or []]
    return out


def _protocol_matches(perm: Mapping[str, Any], flow: model.Flow) -> bool:
    proto = str(perm.get("IpProtocol", "-1"))
    if proto in _ALL:
        return True
    if model.protocol_number(proto) != flow.protocol:
        return False
    if not model.has_ports(flow.protocol) or flow.port is None:
        return True
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if lo in (None, -1):
        return True
    return int(lo) <= flow.port <= int(hi if hi is not None else lo)


def _peer(inv: aws_inventory.Inventory, perm: Mapping[str, Any], peer: str) -> tuple[str, str]:
    """(what matched the peer, '') or ('', why it cannot be told) or ('', '')."""
    cidrs = [str(r.get("CidrIp", "")) for r in perm.get("IpRanges") or []]
    cidrs += [str(r.get("CidrIpv6", "")) for r in perm.get("Ipv6Ranges") or []]
    hit = model.in_any(peer, cidrs)
    if hit:
        return hit, ""
    doubts = []
    for ref in perm.get("PrefixListIds") or []:
        pl = str(ref.get("PrefixListId", ""))
        entries = inv.prefix_lists.get(pl)
        if entries is None:
            doubts.append(f"the entries of prefix list {pl} are not in the evidence")
            continue
        hit = model.in_any(peer, entries)
        if hit:
            return f"prefix list {pl} ({hit})", ""
    holder = inv.holding(peer)
    for pair in perm.get("UserIdGroupPairs") or []:
        gid = str(pair.get("GroupId", ""))
        if holder is not None:
            if gid in holder.groups:
                return f"group {gid} (carried by {holder.label})", ""
        elif "NetworkInterfaces" not in inv.kinds:
            doubts.append(f"whether {peer} carries {gid} (its interface is not in the evidence)")
    if model.address(peer) is None:
        doubts.append(f"which address {peer} has (only CIDR rules could match it)")
    return "", "; ".join(doubts)
