"""AWS fix commands: a security group rule, or a network ACL entry pair, with verify and undo.

A security group rule names the clients by a group they all carry (`--source-group`) when there
is one: the reference follows the nodes as the autoscaler replaces them, while a CIDR of today's
node IPs goes stale and the node subnet's CIDR also lets in whatever else runs there. A network
ACL is stateless, so its fix is a pair: the request's direction on the server port and the
replies' direction on the clients' ephemeral ports (1024-65535, the range AWS recommends, which
holds every client OS's), numbered before the entry that denied.
"""

from __future__ import annotations

from collections.abc import Sequence

from paramedic.cloud import aws_acls, model

_EPHEMERAL_FIX = (1024, 65535)


def command(denied: Sequence[model.Denied]) -> model.Command:
    """The fix for one layer (one group's rules, or one ACL) that denied every one of `denied`."""
    step = denied[0].step
    answers = [d.answer for d in denied]
    if "network ACL" in step.layer:
        return _acl_entries(denied)
    if "(outbound)" in step.layer:
        return _egress(answers, step)
    return _ingress(answers, step)


def _proto_args(flow: model.Flow) -> str:
    if model.has_ports(flow.protocol) and flow.port is not None:
        return f"--protocol {model.protocol_name(flow.protocol)} --port {flow.port}"
    return f"--protocol {flow.protocol}"


def _source_groups(answers: Sequence[model.Answer]) -> list[str]:
    """Groups carried by every client's interface (from each answer's outbound step)."""
    sets = []
    for a in answers:
        out = next((s for s in a.steps if s.layer.startswith("security groups (outbound)")), None)
        if out is None:
            return []
        sets.append(set(out.facts.get("groups") or ()))
    return sorted(set.intersection(*sets)) if sets else []


def _ingress(answers: Sequence[model.Answer], step: model.Step) -> model.Command:
    flow = answers[0].flow
    target = sorted(step.facts.get("groups") or ("sg-?",))[0]
    shared = _source_groups(answers)
    if shared:
        peers = [f"--source-group {shared[0]}"]
        why = (
            f"A reference to {shared[0]}, which every client node carries, follows the nodes as "
            "they are replaced; a CIDR of today's node IPs goes stale, and the subnet's CIDR "
            "would also admit everything else in it."
        )
    else:
        peers = [
            f"--cidr {model.host_cidr(ip)}" if ":" not in ip else ""
            for ip in model.sources(answers)
        ]
        why = (
            "The clients carry no common security group in the evidence (their traffic may leave "
            "through a NAT address), so the rule names their addresses."
        )
    base = f"--group-id {target} {_proto_args(flow)}"
    runs = [f"aws ec2 authorize-security-group-ingress {base} {p}" for p in peers if p]
    runs += [
        f"aws ec2 authorize-security-group-ingress --group-id {target} --ip-permissions "
        f"'IpProtocol={_ip_protocol(flow)}{_perm_ports(flow)},Ipv6Ranges=[{{CidrIpv6={ip}/128}}]'"
        for ip in model.sources(answers)
        if ":" in ip and not shared
    ]
    return model.Command(
        layer=step.layer,
        run="\n".join(runs),
        verify=f"aws ec2 describe-security-groups --group-ids {target} "
        "--query 'SecurityGroups[0].IpPermissions'",
        undo="\n".join(r.replace("authorize-", "revoke-", 1) for r in runs),
        why=why + " Security groups are stateful: the replies need no rule.",
    )


def _egress(answers: Sequence[model.Answer], step: model.Step) -> model.Command:
    flow = answers[0].flow
    source = sorted(step.facts.get("groups") or ("sg-?",))[0]
    dst_step = next((s for s in answers[0].steps if "(inbound)" in s.layer), None)
    dst_groups = sorted(dst_step.facts.get("groups") or ()) if dst_step else []
    peer = (
        f"UserIdGroupPairs=[{{GroupId={dst_groups[0]}}}]"
        if dst_groups
        else f"IpRanges=[{{CidrIp={model.host_cidr(flow.dst)}}}]"
    )
    run = (
        f"aws ec2 authorize-security-group-egress --group-id {source} --ip-permissions "
        f"'IpProtocol={_ip_protocol(flow)}{_perm_ports(flow)},{peer}'"
    )
    return model.Command(
        layer=step.layer,
        run=run,
        verify=f"aws ec2 describe-security-groups --group-ids {source} "
        "--query 'SecurityGroups[0].IpPermissionsEgress'",
        undo=run.replace("authorize-", "revoke-", 1),
        why="The clients' own group limits what they may send; this adds the database as a "
        "destination (by its group, so it survives a new address).",
    )


def _ip_protocol(flow: model.Flow) -> str:
    return model.protocol_name(flow.protocol) if flow.protocol in (6, 17) else str(flow.protocol)


def _perm_ports(flow: model.Flow) -> str:
    if model.has_ports(flow.protocol) and flow.port is not None:
        return f",FromPort={flow.port},ToPort={flow.port}"
    return ""


def _acl_entries(denied: Sequence[model.Denied]) -> model.Command:
    """An allow entry for each direction of the ACL that denied (usually both: the pair)."""
    facts, flow = denied[0].step.facts, denied[0].answer.flow
    acl = str(facts.get("acl"))
    # The ACL guards the destination when its peer is the client, else the source.
    at_destination = facts.get("peer") == flow.src
    peers = model.sources(d.answer for d in denied) if at_destination else [flow.dst]
    ports = model.has_ports(flow.protocol) and flow.port is not None
    request = f" --port-range From={flow.port},To={flow.port}" if ports else ""
    replies = f" --port-range From={_EPHEMERAL_FIX[0]},To={_EPHEMERAL_FIX[1]}" if ports else ""
    runs, undos, before = [], [], []
    for egress in (not at_destination, at_destination):  # the request's direction first
        steps = [d.step for d in denied if bool(d.step.facts.get("egress")) == egress]
        if not steps:
            continue  # that direction already allows
        decided = min(int(s.facts.get("decided_by", aws_acls.DEFAULT_RULE)) for s in steps)
        before.append("*" if decided == aws_acls.DEFAULT_RULE else str(decided))
        numbers = _free_numbers(
            set(steps[0].facts.get("used") or ()), below=decided, count=len(peers)
        )
        way = "--egress" if egress else "--ingress"
        span = request if egress != at_destination else replies
        for n, peer in zip(numbers, peers, strict=True):
            block = "--ipv6-cidr-block" if ":" in peer else "--cidr-block"
            runs.append(
                f"aws ec2 create-network-acl-entry --network-acl-id {acl} {way} --rule-number {n} "
                f"--protocol {flow.protocol}{span} {block} {model.host_cidr(peer)} "
                "--rule-action allow"
            )
            undos.append(
                f"aws ec2 delete-network-acl-entry --network-acl-id {acl} {way} --rule-number {n}"
            )
    return model.Command(
        layer=denied[0].step.layer,
        run="\n".join(runs),
        verify=f"aws ec2 describe-network-acls --network-acl-ids {acl} "
        "--query 'NetworkAcls[0].Entries'",
        undo="\n".join(undos),
        why="Network ACLs are stateless: the request and its replies each need an allow entry, "
        f"numbered before the entry that denied (rule {' and '.join(before)}; the lowest number "
        "matches first).",
    )


def _free_numbers(used: set[object], *, below: int, count: int) -> list[int]:
    """`count` free rule numbers before `below`: after the highest used entry when the default
    rule denied (multiples of 10), else just under the denying entry."""
    if below >= aws_acls.DEFAULT_RULE:
        numbers = [n for n in used if isinstance(n, int) and n < below]
        start = (max(numbers, default=0) // 10 + 1) * 10
        candidates = range(start, below)
    else:
        candidates = range(below - 1, 0, -1)
    free = [n for n in candidates if n not in used][:count]
    return sorted(free)
