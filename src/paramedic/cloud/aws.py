"""AWS: the whole path of one flow through security groups and network ACLs.

The order is the packet's: the source interface's groups (outbound), the source subnet's ACL
(outbound), the destination subnet's ACL (inbound), the destination's groups (inbound), then the
replies through both ACLs on the client's ephemeral ports (ACLs are stateless; groups are not).
ACLs guard subnet boundaries, so two interfaces in one subnet meet no ACL. What the evidence lacks
is an *unknown* step that names the command that shows it.
"""

from __future__ import annotations

from collections.abc import Iterable

from paramedic.cloud import aws_acls, aws_groups, aws_inventory, model
from paramedic.evidence import model as evidence_model

COMMANDS = {
    "SecurityGroups": "aws ec2 describe-security-groups --output json",
    "NetworkAcls": "aws ec2 describe-network-acls --output json",
    "NetworkInterfaces": "aws ec2 describe-network-interfaces --output json",
}


def evaluate(docs: Iterable[evidence_model.CloudDocument], flow: model.Flow) -> model.Answer:
    return evaluate_in(aws_inventory.build(docs), flow)


def evaluate_in(inv: aws_inventory.Inventory, flow: model.Flow) -> model.Answer:
    src = inv.holding(flow.src)
    dst = inv.holding(flow.dst, flow.dst_name)
    steps: list[model.Step] = []
    if "SecurityGroups" not in inv.kinds:
        steps.append(_missing("security groups", "SecurityGroups"))
    elif src is None:
        steps.append(_unplaced(flow.src, "source"))
    else:
        steps.append(aws_groups.evaluate(inv, src, flow, inbound=False))
    acl_steps = _acls(inv, src, dst, flow)
    steps += acl_steps[:2]
    if dst is None:
        steps.append(_unplaced(flow.dst_name or flow.dst, "destination"))
    elif "SecurityGroups" in inv.kinds:
        steps.append(aws_groups.evaluate(inv, dst, flow, inbound=True))
    steps += acl_steps[2:]
    return model.Answer(provider="aws", flow=flow, steps=tuple(steps))


def _acls(
    inv: aws_inventory.Inventory,
    src: aws_inventory.Interface | None,
    dst: aws_inventory.Interface | None,
    flow: model.Flow,
) -> list[model.Step]:
    """[source out, destination in, destination out (replies), source in (replies)]."""
    if src is not None and dst is not None and src.subnets == dst.subnets and len(src.subnets) == 1:
        return [
            model.Step(
                layer="network ACLs",
                decision=model.Decision.ALLOW,
                reason=f"both ends are in subnet {src.subnets[0]}: ACLs only guard subnet "
                "boundaries",
            )
        ]
    if "NetworkAcls" not in inv.kinds:
        return [_missing("network ACLs", "NetworkAcls")]
    port = (
        (flow.port, flow.port) if flow.port is not None and model.has_ports(flow.protocol) else None
    )
    back = model.EPHEMERAL if port is not None else None
    plan = (
        (src, True, flow.dst, port, "the request leaves the source's subnet"),
        (dst, False, flow.src, port, "the request enters the destination's subnet"),
        (dst, True, flow.src, back, "the replies leave, to the client's ephemeral ports"),
        (src, False, flow.dst, back, "the replies come back on the client's ephemeral ports"),
    )
    steps = []
    for iface, egress, peer, ports, why in plan:
        if iface is None:
            continue
        step = _acl_step(inv, iface, egress=egress, peer=peer, flow=flow, ports=ports, why=why)
        if step is not None:
            steps.append(step)
    return steps


def _acl_step(
    inv: aws_inventory.Inventory,
    iface: aws_inventory.Interface,
    *,
    egress: bool,
    peer: str,
    flow: model.Flow,
    ports: tuple[int, int] | None,
    why: str,
) -> model.Step | None:
    found = [inv.acl_of(subnet, iface.vpc) for subnet in iface.subnets]
    if not found:
        return None
    if model.address(peer) is None:
        return model.Step(
            layer=f"network ACL of {iface.label}",
            decision=model.Decision.UNKNOWN,
            reason=f"ACL entries match addresses, and the address of {peer} is not in the evidence",
        )
    if any(f is None for f in found):
        return model.Step(
            layer=f"network ACL of {iface.label}",
            decision=model.Decision.UNKNOWN,
            reason=f"no network ACL in the evidence guards subnet(s) {', '.join(iface.subnets)}",
        )
    steps = [
        aws_acls.evaluate(
            acl, source, egress=egress, peer=peer, protocol=flow.protocol, ports=ports, why=why
        )
        for acl, source in (f for f in found if f is not None)
    ]
    if len({s.decision for s in steps}) > 1:
        return model.Step(
            layer=f"network ACLs of {iface.label}",
            decision=model.Decision.UNKNOWN,
            reason=f"its subnets {', '.join(iface.subnets)} have ACLs that disagree, and the "
            f"evidence does not say which subnet it is in ({COMMANDS['NetworkInterfaces']})",
        )
    return steps[0]


def _missing(what: str, kind: str) -> model.Step:
    return model.Step(
        layer=what,
        decision=model.Decision.UNKNOWN,
        reason=f"{what} are not in the evidence: {COMMANDS[kind]}",
    )


def _unplaced(address: str, role: str) -> model.Step:
    return model.Step(
        layer=f"{role} interface",
        decision=model.Decision.UNKNOWN,
        reason=f"no network interface or RDS endpoint in the evidence holds {address}: aws ec2 "
        f"describe-network-interfaces --filters Name=addresses.private-ip-address,Values={address}",
    )
