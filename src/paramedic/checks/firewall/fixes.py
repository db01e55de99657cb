"""The fix of a cloud rule that drops the flow: the exact commands (`paramedic.cloud.commands`)
as fix steps, with how to verify each and how to undo it; without rule files, the rule to ask
for (`request`): from the nodes' addresses to the database's, in the provider's terms."""

from __future__ import annotations

from collections.abc import Sequence

from paramedic.checks import model
from paramedic.cloud import commands
from paramedic.cloud import model as cloud_model
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, resolve


def remedy(
    answers: Sequence[cloud_model.Answer], *, label: str, test: str, what: str
) -> model.Remedy:
    """`what` says what the commands open ('TCP 5432 to 10.0.3.30'); `test` is the connect test
    that shows it works afterwards."""
    cmds = commands.for_answers(answers, label=label)
    provider = answers[0].provider
    steps = tuple(
        model.FixStep(
            description=f"Allow it in {c.layer}:",
            language="shell",
            content=c.run,
            action={
                "op": "cloud-command",
                "provider": provider,
                "run": c.run,
                "verify": c.verify,
                "undo": c.undo,
            },
        )
        for c in cmds
    )
    return model.Remedy(
        fix=model.Fix(
            summary=f"allow {what} in the {provider} rules that drop it",
            steps=steps,
            rollback="\n".join(c.undo for c in cmds),
        ),
        why=" ".join(dict.fromkeys(c.why for c in cmds)),
        verify="\n".join([*(c.verify for c in cmds), f"{test}  # expect: open"]),
    )


def cites(answers: Sequence[cloud_model.Answer]) -> tuple[model.Cite, ...]:
    """One line per flow with its deciding layer; the whole path of the first denied one."""
    out = []
    shown = False
    for a in answers:
        step = a.deciding
        head = f"{a.provider} {a.flow}: {a.decision}"
        if step is None:
            last = a.steps[-1] if a.steps else None
            out.append(model.Cite(text=f"{head} ({last.rule if last else 'no layer'})"))
            continue
        out.append(
            model.Cite(
                text=f"{head} at {step.layer}: {step.rule or step.reason}", source=step.source
            )
        )
        if a.decision is cloud_model.Decision.DENY and not shown:
            shown = True
            out += [model.Cite(text=f"  {s.line()}", source=s.source) for s in a.steps]
    return tuple(out)


def request(
    ev: evidence_model.Evidence, scope: resolve.Scope, addresses: list[str], port: int | None
) -> model.Fix:
    nodes = []
    for node in ev.kind("Node"):
        for a in objects.as_list(objects.status(node).get("addresses")):
            if isinstance(a, dict) and a.get("type") == "InternalIP":
                nodes.append((objects.name(node), str(a.get("address"))))
    sources = ", ".join(f"{ip}/32" for _, ip in nodes) or "the cluster's egress addresses"
    names = ", ".join(n for n, _ in nodes)
    dest = ", ".join(f"{a}/32" for a in addresses) or scope.target_host
    provider = next(
        (
            str(objects.spec(n).get("providerID", "")).split(":")[0]
            for n in ev.kind("Node")
            if objects.spec(n).get("providerID")
        ),
        "",
    )
    where = {
        "aws": "the database's AWS security group (inbound rules)",
        "gce": "a GCP VPC firewall rule (ingress, allow)",
        "azure": "the network security group in front of the database",
    }.get(provider, "the firewall or cloud security group in front of the database")
    rule = (
        (
            f"allow TCP from {sources}\n      to   {dest} port {port}\n"
            f"(sources: nodes {names}; pod traffic to outside addresses leaves with the node's IP."
            " If egress goes through a NAT gateway, use its public IP instead)"
        )
        if nodes
        else (f"allow TCP from the cluster's egress addresses to {dest} port {port}")
    )
    return model.Fix(
        summary=f"open TCP {port} to {dest} from the cluster's nodes in {where}",
        steps=(
            model.FixStep(
                description=f"Ask whoever manages {where} for this rule:",
                language="text",
                content=rule,
                action={
                    "op": "request-firewall-rule",
                    "protocol": "TCP",
                    "port": port,
                    "sources": [ip for _, ip in nodes],
                    "destinations": addresses,
                },
            ),
        ),
        alternatives=(
            "if the database runs on a host you manage, check its own firewall "
            f"(nft list ruleset / iptables -S) for a drop on port {port}",
        ),
    )
