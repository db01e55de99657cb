"""Detector of `firewall` for a target outside the cluster: what the cloud's own rules say about
the path from every node that runs a client pod (and from the NAT gateways, for a public
address) to the database address. A rule that drops it is the cause, cited with the rule that
decided (or the one missing); rules that cannot be told make the verdict inconclusive.
"""

from __future__ import annotations

import dataclasses

from paramedic.checks import model
from paramedic.checks.firewall import fixes, placement
from paramedic.cloud import aws_inventory, path
from paramedic.cloud import model as cloud_model
from paramedic.kube import names, objects, resolve

NO_RULES = (
    "no cloud network rules in the evidence (cloud/aws|gcp|azure/*.json, or live --cloud aws; "
    "docs/CLOUD.md lists the commands)"
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """What the cloud rules said: a finding when they decide, and evidence lines either way."""

    finding: model.Finding | None
    cites: tuple[model.Cite, ...]
    unknown: str = ""
    """The command that would tell, when a layer could not be evaluated."""


def outside(ctx: model.Context, addresses: list[str], port: int | None, test: str) -> Read:
    ev, scope = ctx.evidence, ctx.scope
    if not ev.cloud:
        return Read(finding=None, cites=(model.Cite(text=NO_RULES),))
    nodes = placement.nodes_of(ev, scope.source_pods)
    name = _dialed_name(scope)
    dst = addresses[0] if addresses else name
    sources = [n.address for n in nodes]
    public = cloud_model.address(dst)
    if public is not None and public.is_global:  # leaves through the NAT gateways
        sources += list(aws_inventory.build(ev.cloud).nat_addresses)
    answers = [
        a
        for a in (
            path.evaluate(ev.cloud, cloud_model.Flow(src=s, dst=dst, port=port, dst_name=name))
            for s in sources
        )
        if a is not None
    ]
    if not answers:
        return Read(
            finding=None,
            cites=(model.Cite(text="no client node with a known address to evaluate from"),),
        )
    cites = fixes.cites(answers)
    denied = [a for a in answers if a.decision is cloud_model.Decision.DENY]
    if denied:
        first = denied[0].deciding
        assert first is not None
        proto = f"TCP {port}" if port is not None else "TCP"
        blocked = sorted({a.flow.src for a in denied})
        return Read(
            finding=model.Finding(
                verdict=model.Verdict.CAUSE,
                confidence=model.Confidence.HIGH,
                summary=f"the {denied[0].provider} rules drop {proto} from "
                f"{', '.join(blocked)} to {dst}: {first.layer} — "
                f"{first.rule or first.reason}",
                evidence=cites,
                remedy=fixes.remedy(
                    denied,
                    label=placement.label(scope.source, scope.target_host),
                    test=test,
                    what=f"{proto} to {dst} from the client nodes",
                ),
                priority=model.Priority.EXTERNAL,
                details={"cloud": [a.as_dict() for a in answers]},
            ),
            cites=cites,
        )
    unsure = [a.deciding for a in answers if a.decision is cloud_model.Decision.UNKNOWN]
    return Read(
        finding=None,
        cites=cites,
        unknown=next((s.reason for s in unsure if s is not None), ""),
    )


def _dialed_name(scope: resolve.Scope) -> str:
    """The host name the client dials (an ExternalName's target, or the given host)."""
    service = scope.target_service
    if service is not None and objects.spec(service).get("type") == "ExternalName":
        return str(objects.spec(service).get("externalName", ""))
    return "" if names.is_ip(scope.target_host) else scope.target_host
