"""The exact command that opens a flow a cloud layer denies, with how to verify and undo it.

Input: the denied answers of one incident (one per client node, usually). The answers that the
same layer denied share one command: one rule for every client node, never one rule each when a
group, tag or prefix list can say "the nodes". AWS commands are built in `aws_commands`; GCP and
Azure here. Names and priorities are chosen so that the new allow rule is tried before the rule
that denied (a lower priority number, a free rule number), and never collide with existing ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from paramedic.cloud import aws_commands, model


def for_answers(answers: Sequence[model.Answer], *, label: str) -> list[model.Command]:
    """One command per denying layer, in the order of the first answer's path; `label` names new
    rules ('user-service-to-profile-db')."""
    groups: dict[str, list[model.Denied]] = {}
    for answer in answers:
        for step in answer.steps:
            if step.decision is model.Decision.DENY:
                key = str(step.facts.get("acl") or step.layer.split(" (")[0])
                groups.setdefault(key, []).append(model.Denied(answer=answer, step=step))
    out = []
    for members in groups.values():
        provider = members[0].answer.provider
        if provider == "aws":
            out.append(aws_commands.command(members))
        elif provider == "gcp":
            out.append(_gcp(members, label))
        elif provider == "azure":
            out.append(_azure(members, label))
    return out


def rule_name(label: str, flow: model.Flow) -> str:
    """A name valid for GCP and Azure rules: lowercase letters, digits, dashes, at most 63."""
    port = f"-{flow.port}" if flow.port is not None and model.has_ports(flow.protocol) else ""
    text = f"allow-{label}-{model.protocol_name(flow.protocol)}{port}".lower()
    text = re.sub(r"[^a-z0-9-]+", "-", text).strip("-")
    return text[:63].rstrip("-")


def _gcp(denied: Sequence[model.Denied], label: str) -> model.Command:
    answers = [d.answer for d in denied]
    step, flow = denied[0].step, denied[0].answer.flow
    facts = step.facts
    egress = bool(facts.get("egress"))
    decided = _decided(denied, 65535)
    priority = 1000 if decided >= 65535 else max(decided - 1, 0)
    name = rule_name(label, flow)
    proto = model.protocol_name(flow.protocol)
    rules = f"{proto}:{flow.port}" if model.has_ports(flow.protocol) and flow.port else proto
    parts = [
        f"gcloud compute firewall-rules create {name}",
        f"--network={facts.get('network')}",
        f"--direction={'EGRESS' if egress else 'INGRESS'}",
        "--action=ALLOW",
        f"--rules={rules}",
        f"--priority={priority}",
    ]
    why = ""
    if egress:
        parts.append(f"--destination-ranges={model.host_cidr(flow.dst)}")
        parts += _gcp_targets(facts)
    else:
        tags = _common(a.steps[0].facts.get("tags") for a in answers if _egress_step(a))
        if tags and all(_egress_step(a) for a in answers):
            parts.append(f"--source-tags={tags[0]}")
            why = (
                f"The source tag {tags[0]} is carried by every client node, so the rule follows "
                "the nodes as they are replaced, where a list of today's node IPs goes stale."
            )
        else:
            parts.append(
                "--source-ranges=" + ",".join(model.host_cidr(ip) for ip in model.sources(answers))
            )
        parts += _gcp_targets(facts)
    return model.Command(
        layer=step.layer,
        run=" \\\n  ".join(parts),
        verify=f"gcloud compute firewall-rules describe {name} --format=json",
        undo=f"gcloud compute firewall-rules delete {name} --quiet",
        why=why
        or "GCP firewall rules are stateful: one allow rule for the opening direction is enough.",
    )


def _egress_step(answer: model.Answer) -> bool:
    return bool(answer.steps) and bool(answer.steps[0].facts.get("egress"))


def _decided(denied: Sequence[model.Denied], default: int) -> int:
    """The lowest priority among the rules that denied (the new rule must come before it)."""
    return min(int(d.step.facts.get("decided_priority", default)) for d in denied)


def _gcp_targets(facts: Mapping[str, Any]) -> list[str]:
    tags, accounts = facts.get("tags") or [], facts.get("accounts") or []
    if tags:
        return [f"--target-tags={sorted(tags)[0]}"]
    if accounts:
        return [f"--target-service-accounts={sorted(accounts)[0]}"]
    return []


def _common(lists: Iterable[Any]) -> list[str]:
    sets = [set(x) for x in lists if isinstance(x, list)]
    return sorted(set.intersection(*sets)) if sets else []


def _azure(denied: Sequence[model.Denied], label: str) -> model.Command:
    step, flow = denied[0].step, denied[0].answer.flow
    facts = step.facts
    decided = _decided(denied, 65500)
    priority = _free_priority(set(facts.get("priorities") or []), below=decided)
    name = rule_name(label, flow)
    proto = {6: "Tcp", 17: "Udp"}.get(flow.protocol, "'*'")
    port = str(flow.port) if model.has_ports(flow.protocol) and flow.port else "'*'"
    where = f"--resource-group {facts.get('resource_group')} --nsg-name {facts.get('nsg')}"
    clients, pool = _azure_sources(denied)
    run = (
        f"az network nsg rule create {where} --name {name} \\\n"
        f"  --priority {priority} --direction {facts.get('direction')} --access Allow "
        f"--protocol {proto} \\\n"
        f"  --source-address-prefixes {clients} "
        "--source-port-ranges '*' \\\n"
        f"  --destination-address-prefixes {model.host_cidr(flow.dst)} "
        f"--destination-port-ranges {port}"
    )
    note = (
        f" NSGs have no rule for {model.protocol_name(flow.protocol)} alone, so the rule allows "
        "any protocol between these addresses."
        if proto == "'*'"
        else ""
    )
    return model.Command(
        layer=step.layer,
        run=run,
        verify=f"az network nsg rule show {where} --name {name} -o json",
        undo=f"az network nsg rule delete {where} --name {name}",
        why=f"Priority {priority} is tried before the rule that denied (priority {decided}); NSGs "
        "are stateful, so the replies need no rule." + pool + note,
    )


def _azure_sources(denied: Sequence[model.Denied]) -> tuple[str, str]:
    """The source prefixes for the new rule, and why: the subnets the client NICs sit in when
    every client address lies in them (the rule then follows a node pool as it scales), else
    each client address."""
    ips = model.sources(d.answer for d in denied)
    subnets = sorted({p for d in denied for p in d.step.facts.get("source_subnet_prefixes") or []})
    if subnets and all(model.in_any(ip, subnets) for ip in ips):
        return " ".join(subnets), (
            f" The source is the clients' subnet ({', '.join(subnets)}), so the rule follows "
            "the node pool as it scales, where today's node addresses go stale."
        )
    return " ".join(model.host_cidr(ip) for ip in ips), ""


def _free_priority(used: set[object], *, below: int) -> int:
    """The highest free NSG priority (100-4096) below `below`, a multiple of 10 when one is free."""
    top = min(below - 1, 4096)
    for step in (10, 1):
        start = top - top % step
        for p in range(start, 99, -step):
            if p not in used:
                return p
    return 100
