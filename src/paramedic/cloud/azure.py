"""Azure: network security groups on the path of one flow.

Up to two NSGs guard a network interface: its subnet's and its own. A request leaving the source
meets the NIC's NSG and then the subnet's (outbound); arriving at the destination, the subnet's
and then the NIC's (inbound); each must allow it. Within one NSG the rules of that direction are
tried by priority, lowest first, the custom ones (100-4096) before the defaults (65000 allow
inside the virtual network, 65001 allow the load balancer's probes inbound and the Internet
outbound, 65500 deny all); the first match decides. An interface without any NSG allows all.
NSGs are stateful. Address prefixes are CIDRs, `*`, or service tags: VirtualNetwork (the address
spaces of `az network vnet list`, else the addresses of the listed NICs), Internet (public
addresses outside those), AzureLoadBalancer (168.63.129.16); any other tag cannot be told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.cloud import azure_inventory, model
from paramedic.evidence import model as evidence_model

LIST_NSGS = "az network nsg list -o json"
_DEFAULTS = {
    "Inbound": (
        ("AllowVnetInBound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"),
        ("AllowAzureLoadBalancerInBound", 65001, "AzureLoadBalancer", "*", "Allow"),
        ("DenyAllInBound", 65500, "*", "*", "Deny"),
    ),
    "Outbound": (
        ("AllowVnetOutBound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"),
        ("AllowInternetOutBound", 65001, "*", "Internet", "Allow"),
        ("DenyAllOutBound", 65500, "*", "*", "Deny"),
    ),
}


def evaluate(docs: Iterable[evidence_model.CloudDocument], flow: model.Flow) -> model.Answer:
    inv = azure_inventory.build(docs)
    if not inv.has_nsgs:
        return _answer(
            flow, _unknown("network security groups", f"not in the evidence: {LIST_NSGS}")
        )
    src, dst = inv.nic_holding(flow.src), inv.nic_holding(flow.dst)
    steps = []
    if src is not None:
        for kind, nsg in (("NIC", inv.nsg_of_nic(src)), ("subnet", inv.nsg_of_subnet(src))):
            steps.append(_nsg(inv, nsg, flow, "Outbound", f"{kind} of {src.name}", src, dst))
    if dst is None:
        steps.append(
            _unknown(
                "destination interface",
                f"no network interface in the evidence holds {flow.dst}: "
                "az network nic list -o json",
            )
        )
    else:
        for kind, nsg in (("subnet", inv.nsg_of_subnet(dst)), ("NIC", inv.nsg_of_nic(dst))):
            steps.append(_nsg(inv, nsg, flow, "Inbound", f"{kind} of {dst.name}", src, dst))
    return _answer(flow, *steps)


def _nsg(
    inv: azure_inventory.Inventory,
    found: tuple[Mapping[str, Any], str] | None,
    flow: model.Flow,
    direction: str,
    where: str,
    src: azure_inventory.Nic | None,
    dst: azure_inventory.Nic | None,
) -> model.Step:
    if found is None:
        return model.Step(
            layer=f"NSG of the {where}",
            decision=model.Decision.ALLOW,
            reason="no NSG is associated there, so nothing is filtered",
        )
    nsg, source = found
    layer = f"NSG {nsg['name']} ({where}, {direction.lower()})"
    rules = [r for r in nsg.get("securityRules") or [] if r.get("direction") == direction]
    defaults = [r for r in nsg.get("defaultSecurityRules") or [] if r.get("direction") == direction]
    if not defaults:
        defaults = [
            {
                "name": n,
                "priority": p,
                "sourceAddressPrefix": s,
                "destinationAddressPrefix": d,
                "access": a,
                "protocol": "*",
                "destinationPortRange": "*",
            }
            for n, p, s, d, a in _DEFAULTS[direction]
        ]
    ordered = sorted(rules + defaults, key=lambda r: int(r.get("priority", 65500)))
    facts = {
        "source_subnet_prefixes": list(inv.prefixes_of(src)) if src is not None else [],
        "nsg": nsg["name"],
        "resource_group": nsg.get("resourceGroup") or azure_inventory.resource_group(nsg),
        "direction": direction,
        "priorities": sorted(int(r.get("priority", 0)) for r in rules),
    }
    for rule in ordered:
        hit = _matches(inv, rule, flow, src, dst)
        if hit is False:
            continue
        if hit is None:
            return model.Step(
                layer=layer,
                decision=model.Decision.UNKNOWN,
                rule=describe(rule),
                reason="the rule names a service tag or application security group the evidence "
                "cannot resolve for these addresses",
                source=source,
                facts=facts,
            )
        allow = str(rule.get("access", "")).lower() == "allow"
        return model.Step(
            layer=layer,
            decision=model.Decision.ALLOW if allow else model.Decision.DENY,
            rule=describe(rule),
            reason="first match by priority" + (" (a default rule)" if rule in defaults else ""),
            source=source,
            facts={**facts, "decided_priority": int(rule.get("priority", 65500))},
        )
    return model.Step(
        layer=layer, decision=model.Decision.DENY, reason="no rule matched", facts=facts
    )


def describe(rule: Mapping[str, Any]) -> str:
    ports = _list(rule, "destinationPortRange") or ["*"]
    return (
        f"{rule.get('name')} (priority {rule.get('priority')}, {rule.get('access')} "
        f"{rule.get('protocol', '*')} {','.join(ports)} from "
        f"{','.join(_list(rule, 'sourceAddressPrefix') or ['*'])} to "
        f"{','.join(_list(rule, 'destinationAddressPrefix') or ['*'])})"
    )


def _matches(
    inv: azure_inventory.Inventory,
    rule: Mapping[str, Any],
    flow: model.Flow,
    src: azure_inventory.Nic | None,
    dst: azure_inventory.Nic | None,
) -> bool | None:
    proto = str(rule.get("protocol", "*"))
    if proto != "*" and model.protocol_number(proto) != flow.protocol:
        return False
    if flow.port is not None and model.has_ports(flow.protocol):
        ranges = model.port_ranges(_list(rule, "destinationPortRange") or ["*"])
        if ranges is None or not model.covers(ranges, flow.port):
            return False
    results = [
        _side(inv, rule, "source", flow.src, src),
        _side(inv, rule, "destination", flow.dst, dst),
    ]
    if False in results:
        return False
    return None if None in results else True


def _side(
    inv: azure_inventory.Inventory,
    rule: Mapping[str, Any],
    side: str,
    ip: str,
    nic: azure_inventory.Nic | None,
) -> bool | None:
    groups = [
        str(g.get("id", "")).lower() for g in rule.get(f"{side}ApplicationSecurityGroups") or []
    ]
    if groups:
        return None if nic is None else bool(set(groups) & nic.asgs)
    verdicts = [inv.prefix_holds(p, ip) for p in _list(rule, f"{side}AddressPrefix") or ["*"]]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _list(rule: Mapping[str, Any], field: str) -> list[str]:
    """A rule's singular field and its plural twin (`…Prefix` and `…Prefixes`) as one list."""
    out = [str(v) for v in rule.get(field + ("es" if field.endswith("x") else "s")) or []]
    if rule.get(field):
        out.insert(0, str(rule[field]))
    return out


def _unknown(layer: str, reason: str) -> model.Step:
    return model.Step(layer=layer, decision=model.Decision.UNKNOWN, reason=reason)


def _answer(flow: model.Flow, *steps: model.Step) -> model.Answer:
    return model.Answer(provider="azure", flow=flow, steps=steps)
