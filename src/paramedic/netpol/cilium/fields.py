"""One Cilium rule's L3 peers, parsed and checked (its ports: `ports`).

Facts from Cilium's policy API (pkg/policy/api: rule validation, entities, CIDR rules, ports):

- A rule uses at most one kind of L3 selector (`fromEndpoints`, `fromCIDR`, `fromCIDRSet`,
  `fromEntities`, `fromNodes`, `fromGroups`; egress also `toServices`, `toFQDNs`); combining
  two is rejected. `toServices` cannot be combined with `toPorts`.
- A present but empty selector list selects nothing; a rule without any L3 field selects every
  peer when it has `toPorts`, and nothing when it has none (the `- {}` rule: it only switches
  default deny on).
- Entities: all, world (world-ipv4, world-ipv6), cluster, host, remote-node, kube-apiserver,
  ingress, init, health, unmanaged, none; anything else is rejected.
- `fromCIDR` items are a prefix or a bare address; `fromCIDRSet` items one of `cidr` (a prefix),
  `cidrGroupRef` (a CiliumCIDRGroup's name) or `cidrGroupSelector`, with `except` prefixes inside
  the CIDR.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from paramedic.netpol import policies, validation
from paramedic.netpol.cilium import labels

ENTITIES = frozenset(
    {
        "all",
        "world",
        "world-ipv4",
        "world-ipv6",
        "cluster",
        "host",
        "remote-node",
        "kube-apiserver",
        "ingress",
        "init",
        "health",
        "unmanaged",
        "none",
    }
)
L3_FIELDS = {
    "from": ("Endpoints", "CIDR", "CIDRSet", "Entities", "Nodes", "Groups"),
    "to": ("Endpoints", "CIDR", "CIDRSet", "Entities", "Nodes", "Groups", "Services", "FQDNs"),
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Peer:
    """One L3 selector of a rule: endpoints, an entity, a CIDR block or group, or nodes."""

    kind: str
    """'endpoints' | 'entity' | 'cidr' | 'group' | 'nodes'."""
    selector: Mapping[str, Any] | None = None
    """Normalised label selector (endpoints, nodes, a group selector)."""
    names_namespace: bool = False
    entity: str = ""
    block: policies.IPBlock | None = None
    group: str = ""
    excepts: tuple[policies.Network, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class L3:
    peers: tuple[Peer, ...] | None
    """None: every peer; (): none."""
    unmodelled: tuple[str, ...] = ()


def l3(rule: Mapping[str, Any], side: str, where: str, problems: list[str]) -> L3:
    """The rule's peers (`side`: 'from' for ingress rules, 'to' for egress)."""
    present = [f"{side}{f}" for f in L3_FIELDS[side] if rule.get(f"{side}{f}") is not None]
    used = [f for f in present if rule.get(f)]
    if len(used) > 1:
        problems.append(f"{where}: combining {used[0]} and {used[1]} is not supported")
        return L3(peers=())
    if f"{side}Services" in used and rule.get("toPorts"):
        problems.append(f"{where}: combining toServices and toPorts is not supported")
        return L3(peers=())
    if not present:
        return L3(peers=None if rule.get("toPorts") else ())
    field = present[0]
    raw = rule.get(field)
    here = f"{where}.{field}"
    if not isinstance(raw, list):
        problems.append(f"{here}: must be a list")
        return L3(peers=())
    if field.endswith(("Services", "FQDNs", "Groups")):
        what = {"Services": "Services", "FQDNs": "DNS names", "Groups": "cloud groups"}
        name = next(k for k in what if field.endswith(k))
        return L3(
            peers=(),
            unmodelled=(f"{here}: peers chosen by {what[name]} are resolved at run time",),
        )
    found: list[Peer] = []
    notes: list[str] = []
    for i, item in enumerate(raw):
        peer = _peer(field, item, f"{here}[{i}]", problems, notes)
        found += [peer] if peer is not None else []
    return L3(peers=tuple(found), unmodelled=tuple(notes))


def _peer(field: str, item: Any, here: str, problems: list[str], notes: list[str]) -> Peer | None:
    if field.endswith("Entities"):
        if item not in ENTITIES:
            problems.append(f"{here}: unsupported entity {item!r}")
            return None
        return Peer(kind="entity", entity=str(item))
    if field.endswith("CIDR"):
        return _cidr(item, here, problems, bare_ok=True)
    if field.endswith("CIDRSet"):
        return _cidr_rule(item, here, problems)
    selector = selector_of(item, here, problems)
    if selector is None:
        return None
    normal, foreign = selector
    if foreign:
        notes.append(
            f"{here}: selects reserved or non-pod identities ({', '.join(sorted(foreign))})"
        )
        return None
    kind = "nodes" if field.endswith("Nodes") else "endpoints"
    return Peer(kind=kind, selector=normal, names_namespace=labels.names_namespace(normal))


def selector_of(
    raw: Any, where: str, problems: list[str]
) -> tuple[dict[str, Any], set[str]] | None:
    """(normalised selector, foreign label sources) of a Cilium endpoint selector, or None."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a label selector mapping")
        return None
    shape = validation.selector_problems(
        {k: v for k, v in raw.items() if k in ("matchLabels", "matchExpressions")}, where
    )
    if any("matchLabels: must" in p or "matchExpressions: must" in p for p in shape):
        problems.extend(shape)
        return None
    normal, foreign = labels.normalize(raw)
    found = validation.selector_problems(normal, where)
    problems.extend(found)
    return None if found else (normal, foreign)


def network(
    text: Any, where: str, problems: list[str], *, bare_ok: bool
) -> policies.Network | None:
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: required (a CIDR such as 10.0.0.0/16)")
        return None
    if "/" not in text and not bare_ok:
        problems.append(f"{where}: {text!r} is not a CIDR (missing /prefix)")
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        problems.append(f"{where}: {text!r} is not a valid CIDR")
        return None


def _cidr(item: Any, where: str, problems: list[str], *, bare_ok: bool) -> Peer | None:
    net = network(item, where, problems, bare_ok=bare_ok)
    return None if net is None else Peer(kind="cidr", block=policies.IPBlock(cidr=net))


def _cidr_rule(item: Any, where: str, problems: list[str]) -> Peer | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    chosen = [k for k in ("cidr", "cidrGroupRef", "cidrGroupSelector") if item.get(k) is not None]
    if len(chosen) != 1:
        problems.append(f"{where}: needs exactly one of cidr, cidrGroupRef, cidrGroupSelector")
        return None
    raw_except = item.get("except")
    if raw_except is not None and not isinstance(raw_except, list):
        problems.append(f"{where}.except: must be a list of CIDRs")
        return None
    excepts = []
    for i, text in enumerate(raw_except or []):
        net = network(text, f"{where}.except[{i}]", problems, bare_ok=False)
        if net is None:
            return None
        excepts.append(net)
    if chosen[0] == "cidr":
        net = network(item["cidr"], f"{where}.cidr", problems, bare_ok=False)
        if net is None:
            return None
        for i, e in enumerate(excepts):
            if e.version != net.version or e.network_address not in net:
                problems.append(f"{where}.except[{i}]: {e} is not inside cidr {net}")
                return None
        return Peer(kind="cidr", block=policies.IPBlock(cidr=net, excepts=tuple(excepts)))
    if chosen[0] == "cidrGroupRef":
        if not isinstance(item["cidrGroupRef"], str) or not item["cidrGroupRef"]:
            problems.append(f"{where}.cidrGroupRef: must be a CiliumCIDRGroup name")
            return None
        return Peer(kind="group", group=item["cidrGroupRef"], excepts=tuple(excepts))
    selector = selector_of(item["cidrGroupSelector"], f"{where}.cidrGroupSelector", problems)
    if selector is None:
        return None
    return Peer(kind="group", selector=selector[0], excepts=tuple(excepts))
