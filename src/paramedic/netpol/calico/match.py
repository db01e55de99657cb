"""Calico's verdict on one side of a flow: rule matching and the walk through tiers.

A rule matches a packet when every criterion it has matches (Calico's Rule/EntityRule docs):
protocol/notProtocol, ipVersion, source and destination nets/notNets, selector/notSelector,
and destination ports/notPorts. A selector matches a packet by address, as Calico's IP sets
do: the address belongs to a selected workload endpoint, or lies in the nets of a selected
NetworkSet/GlobalNetworkSet. So `selector` never matches an outside address that no selected
set covers, while `notSelector` does match it.

For one endpoint and direction (the source's egress, the destination's ingress), tiers are
walked in order; a tier counts only when one of its policies applies to the endpoint in that
direction. In a tier, policies in order, rules in order: Allow and Deny end the walk, Pass
jumps to the next tier, Log goes on. A tier that acts on nothing ends with its defaultAction
(Deny, unless Pass). When no tier applies, or the last one passes, the namespace profile
allows the packet (Calico's kns.<namespace> profile).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects, pods
from paramedic.netpol import model
from paramedic.netpol.calico import compose, resources, rules, view
from paramedic.netpol.calico import selector as sel

PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """One end of a flow as Calico sees it."""

    address: str | None
    labels: Mapping[str, str] | None
    """The endpoint's full label map; None when it is not a Calico workload endpoint."""
    pod: Mapping[str, Any] | None = None
    """The Pod (or workload) whose container ports define named ports."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    source: Party
    destination: Party
    port: int
    protocol: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    allowed: bool
    tier: str = ""
    policy: resources.Policy | None = None
    rule: int | None = None
    """Index of the deciding rule; None when a tier's end or the profile decided."""
    reason: str = ""


def decide(calico: view.View, flow: Flow, direction: model.Direction) -> Verdict:
    """Calico's verdict for the source's egress or the destination's ingress."""
    endpoint = flow.source if direction is model.Direction.EGRESS else flow.destination
    if endpoint.labels is None:
        return Verdict(allowed=True, reason="not a Calico workload endpoint: no policy applies")
    passed_from = ""
    for tier in calico.tiers:
        applying = [
            p
            for p in calico.policies
            if p.tier == tier.name
            and p.applies(direction)
            and not p.host_only
            and p.subject.matches(endpoint.labels)
        ]
        if not applying:
            continue
        verdict = _tier(calico, tier, applying, flow, direction)
        if verdict is not None:
            return verdict
        passed_from = tier.name
    if passed_from:
        why = f"tier {passed_from} passed it on and no later tier applies: namespace profile allows"
    else:
        why = "no Calico policy applies to the endpoint: the namespace profile allows"
    return Verdict(allowed=True, reason=why)


def _tier(
    calico: view.View,
    tier: resources.Tier,
    applying: list[resources.Policy],
    flow: Flow,
    direction: model.Direction,
) -> Verdict | None:
    for policy in applying:
        for rule in policy.rules(direction):
            if rule.action is rules.Action.LOG or rule.unmodelled:
                continue  # Log goes on; an unmodelled rule is listed by the view instead
            if not rule_matches(calico, policy, rule, flow):
                continue
            if rule.action is rules.Action.PASS:
                return None
            return Verdict(
                allowed=rule.action is rules.Action.ALLOW,
                tier=tier.name,
                policy=policy,
                rule=rule.index,
                reason=f"{direction} rule {rule.index}: {rule.action}",
            )
    if tier.default_action is rules.Action.PASS:
        return None
    return Verdict(
        allowed=False,
        tier=tier.name,
        reason=f"end of tier {tier.name}: policies select the endpoint, no rule matched (Deny)",
    )


def rule_matches(calico: view.View, policy: resources.Policy, rule: rules.Rule, flow: Flow) -> bool:
    number = PROTOCOLS.get(flow.protocol.upper())
    if rule.protocol is not None and rule.protocol != number:
        return False
    if rule.not_protocol is not None and rule.not_protocol == number:
        return False
    if rule.ip_version is not None:
        address = _address(flow.source.address) or _address(flow.destination.address)
        if address is not None and address.version != rule.ip_version:
            return False
    return _entity(calico, policy, rule.source, flow.source, None, flow) and _entity(
        calico, policy, rule.destination, flow.destination, _named_ports(flow), flow
    )


def _entity(
    calico: view.View,
    policy: resources.Policy,
    entity: rules.Entity,
    party: Party,
    named: Mapping[str, int] | None,
    flow: Flow,
) -> bool:
    address = _address(party.address)
    if entity.nets is not None and (address is None or not _within(address, entity.nets)):
        return False
    if entity.not_nets and address is not None and _within(address, entity.not_nets):
        return False
    if named is not None:  # destination ports; source ports are unmodelled (see rules)
        if entity.ports is not None and not any(p.matches(flow.port, named) for p in entity.ports):
            return False
        if any(p.matches(flow.port, named) for p in entity.not_ports):
            return False
    positive = compose.entity_selector(entity, policy.namespace)
    if positive is not None and not selected(calico, positive, party, address):
        return False
    return entity.not_selector is None or not selected(calico, entity.not_selector, party, address)


def selected(
    calico: view.View,
    selector: sel.Selector,
    party: Party,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
) -> bool:
    """Whether the packet's address is in the IP set `selector` stands for."""
    if party.labels is not None and selector.matches(party.labels):
        return True
    if address is None:
        return False
    return any(
        _within(address, found.nets) and selector.matches(labels)
        for found, labels in calico.network_sets
    )


def _named_ports(flow: Flow) -> Mapping[str, int]:
    """The destination's container ports by name, for the flow's protocol."""
    if flow.destination.pod is None:
        return {}
    named: dict[str, int] = {}
    for container in pods.pod_spec(flow.destination.pod).get("containers") or []:
        for port in objects.as_list(container.get("ports") if isinstance(container, dict) else []):
            if not isinstance(port, dict) or not port.get("name"):
                continue
            if str(port.get("protocol") or "TCP").upper() == flow.protocol.upper():
                named.setdefault(str(port["name"]), objects.as_int(port.get("containerPort")))
    return named


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text) if text else None
    except ValueError:
        return None


def _within(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: tuple[rules.Network, ...]
) -> bool:
    return any(address.version == n.version and address in n for n in nets)
