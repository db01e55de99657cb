"""GCP: VPC firewall rules on the path of one flow.

A VPC's rules apply to the instances of that network: egress rules to the source instance,
ingress rules to the destination instance. Rules are tried by priority (0 first, 1000 when
unset), and at equal priority a deny beats an allow; the first that matches decides. A disabled
rule does not exist. A rule targets every instance unless it names target tags or target service
accounts; an ingress rule's sources are its ranges, tags and service accounts together (tags and
accounts match the instances' internal addresses), and 0.0.0.0/0 when it names none. Below every
rule sit the implied ones at 65535: allow all egress, deny all ingress. Rules are stateful.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from paramedic.cloud import model
from paramedic.evidence import model as evidence_model

LIST_RULES = "gcloud compute firewall-rules list --format=json"
IMPLIED = 65535


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    name: str
    addresses: Mapping[str, str]
    """address -> the network (its short name) of the interface that holds it."""
    tags: frozenset[str]
    accounts: frozenset[str]


def instances(docs: Iterable[evidence_model.CloudDocument]) -> list[Instance]:
    out = []
    for doc in docs:
        if doc.provider != "gcp" or doc.kind != "compute#instance":
            continue
        for item in doc.items:
            addresses = {}
            for nic in item.get("networkInterfaces") or []:
                net = short(str(nic.get("network", "")))
                for ip in (nic.get("networkIP"), nic.get("ipv6Address")):
                    if ip:
                        addresses[str(ip)] = net
                for ac in nic.get("accessConfigs") or []:
                    if isinstance(ac.get("natIP"), str):
                        addresses[ac["natIP"]] = net
                for ac in nic.get("ipv6AccessConfigs") or []:  # external IPv6
                    if isinstance(ac.get("externalIpv6"), str):
                        addresses[ac["externalIpv6"]] = net
            out.append(
                Instance(
                    name=str(item["name"]),
                    addresses=addresses,
                    tags=frozenset((item.get("tags") or {}).get("items") or ()),
                    accounts=frozenset(
                        str(s["email"]) for s in item.get("serviceAccounts") or [] if "email" in s
                    ),
                )
            )
    return out


def short(url: str) -> str:
    """'https://…/global/networks/prod' -> 'prod'."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def evaluate(docs: Iterable[evidence_model.CloudDocument], flow: model.Flow) -> model.Answer:
    docs = tuple(docs)
    rules = [
        (rule, d.source)
        for d in docs
        if d.provider == "gcp" and d.kind == "compute#firewall"
        for rule in d.items
        if not rule.get("disabled")
    ]
    have_rules = any(d.provider == "gcp" and d.kind == "compute#firewall" for d in docs)
    known = instances(docs)
    src = next((i for i in known if flow.src in i.addresses), None)
    dst = next((i for i in known if flow.dst in i.addresses), None)
    if not have_rules:
        return _answer(flow, _unknown("firewall rules", f"not in the evidence: {LIST_RULES}"))
    steps = []
    if src is not None:
        steps.append(_walk(rules, flow, src, peer=None, egress=True))
    if dst is None:
        steps.append(
            _unknown(
                "destination instance",
                f"no instance in the evidence holds {flow.dst}: gcloud compute instances list "
                f'--filter="networkInterfaces.networkIP={flow.dst}" --format=json',
            )
        )
    else:
        steps.append(_walk(rules, flow, dst, peer=src, egress=False))
    return _answer(flow, *steps)


def _walk(
    rules: Sequence[tuple[Mapping[str, Any], str]],
    flow: model.Flow,
    inst: Instance,
    *,
    peer: Instance | None,
    egress: bool,
) -> model.Step:
    own = flow.src if egress else flow.dst
    network = inst.addresses[own]
    direction = "EGRESS" if egress else "INGRESS"
    layer = f"VPC {network} firewall {direction.lower()} of {inst.name}"
    mine = [
        (r, s)
        for r, s in rules
        if str(r.get("direction", "INGRESS")).upper() == direction
        and short(str(r.get("network", ""))) == network
        and _targets(r, inst)
    ]
    mine.sort(key=lambda rs: (int(rs[0].get("priority", 1000)), 0 if rs[0].get("denied") else 1))
    facts = {
        "network": network,
        "instance": inst.name,
        "tags": sorted(inst.tags),
        "accounts": sorted(inst.accounts),
        "priorities": sorted(int(r.get("priority", 1000)) for r, _ in mine),
        "egress": egress,
    }
    for rule, source in mine:
        denied = bool(rule.get("denied"))
        if not _protocol(rule.get("denied" if denied else "allowed") or [], flow):
            continue
        hit = _peer(rule, flow, peer, egress=egress)
        if hit:
            return model.Step(
                layer=layer,
                decision=model.Decision.DENY if denied else model.Decision.ALLOW,
                rule=describe(rule),
                reason=f"first match by priority (deny before allow at equal priority): {hit}",
                source=source,
                facts={**facts, "decided_priority": int(rule.get("priority", 1000))},
            )
    implied = model.Decision.ALLOW if egress else model.Decision.DENY
    return model.Step(
        layer=layer,
        decision=implied,
        rule=f"implied {'allow egress' if egress else 'deny ingress'} (priority {IMPLIED})",
        reason=f"no rule of network {network} that applies to {inst.name} matches {flow}",
        facts={**facts, "decided_priority": IMPLIED},
    )


def describe(rule: Mapping[str, Any]) -> str:
    action = "deny" if rule.get("denied") else "allow"
    protos = []
    for p in rule.get("denied" if action == "deny" else "allowed") or []:
        ports = ",".join(p.get("ports") or [])
        protos.append(f"{p.get('IPProtocol')}{':' + ports if ports else ''}")
    return (
        f"{rule.get('name')} (priority {rule.get('priority', 1000)}, "
        f"{str(rule.get('direction', 'INGRESS')).lower()}, {action} {' '.join(protos)})"
    )


def _targets(rule: Mapping[str, Any], inst: Instance) -> bool:
    tags, accounts = rule.get("targetTags") or [], rule.get("targetServiceAccounts") or []
    if not tags and not accounts:
        return True
    return bool(inst.tags & set(tags)) or bool(inst.accounts & set(accounts))


def _protocol(entries: list[Mapping[str, Any]], flow: model.Flow) -> bool:
    for entry in entries:
        proto = str(entry.get("IPProtocol", ""))
        if proto != "all" and model.protocol_number(proto) != flow.protocol:
            continue
        ports = entry.get("ports") or []
        if not ports or flow.port is None or not model.has_ports(flow.protocol):
            return True
        ranges = model.port_ranges(ports)
        if ranges is not None and model.covers(ranges, flow.port):
            return True
    return False


def _peer(rule: Mapping[str, Any], flow: model.Flow, peer: Instance | None, *, egress: bool) -> str:
    """What matched the peer ('' when nothing did). Tags and service accounts match only listed
    instances: the destination is found in the instances list, so the list is there."""
    if egress:
        ranges = rule.get("destinationRanges") or ["0.0.0.0/0", "::/0"]
        hit = model.in_any(flow.dst, ranges)
        return f"destination {hit}" if hit else ""
    ranges = list(rule.get("sourceRanges") or [])
    tags, accounts = rule.get("sourceTags") or [], rule.get("sourceServiceAccounts") or []
    if not ranges and not tags and not accounts:
        ranges = ["0.0.0.0/0"]
    hit = model.in_any(flow.src, ranges)
    if hit:
        return f"source range {hit}"
    if peer is not None:
        both = sorted(peer.tags & set(tags)) + sorted(peer.accounts & set(accounts))
        return f"source {peer.name} carries {', '.join(both)}" if both else ""
    return ""


def _unknown(layer: str, reason: str) -> model.Step:
    return model.Step(layer=layer, decision=model.Decision.UNKNOWN, reason=reason)


def _answer(flow: model.Flow, *steps: model.Step) -> model.Answer:
    return model.Answer(provider="gcp", flow=flow, steps=steps)
