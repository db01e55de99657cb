"""Findings of `network-policy` when the engine denies no flow: ruled out (every flow allowed
and every policy read), or inconclusive when something could still block it unseen (an
unevaluated policy object, a Hubble drop the policies do not explain, a target without pods or
address). Also the finding shape every network-policy finding shares (`finding`) and the one
line that names what decided a direction (`source_of`).
"""

from __future__ import annotations

from typing import Any

from paramedic.checks import model
from paramedic.checks.network_policy import flows, hidden, observed
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.netpol import cluster, matching, peers
from paramedic.netpol import model as netpol_model


def recorded_drops(
    scope: resolve.Scope, seen: observed.Observed, recorded: flows.Recorded
) -> model.Finding:
    """The policies allow every flow, but Hubble recorded the data path dropping some."""
    return finding(
        model.Verdict.INCONCLUSIVE,
        f"the policies in the evidence allow {scope.source} to reach {scope.target} on port "
        f"{scope.port}, but Hubble recorded {len(recorded.disagreeing)} policy drop(s) of these "
        "flows: the evidence is incomplete",
        evidence=(recorded.disagreement(), *seen.extra),
        details=seen.details,
        missing="kubectl get networkpolicies,ciliumnetworkpolicies.cilium.io -A -o yaml "
        "(every policy that applies), and a fresh `hubble observe --verdict DROPPED -o jsonpb`",
    )


def unmodelled(scope: resolve.Scope, seen: observed.Observed) -> model.Finding:
    """Allowed by every layer evaluated, but something unevaluated could still block it."""
    refs = [u.ref for u in seen.unmodelled]
    shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
    return finding(
        model.Verdict.INCONCLUSIVE,
        f"the policies evaluated allow {scope.source} to reach {scope.target} on port "
        f"{scope.port}, but {shown} could still block it (not evaluated)",
        evidence=seen.extra,
        details=seen.details,
        missing="; ".join(dict.fromkeys(u.command for u in seen.unmodelled[:3])),
    )


def allowed(scope: resolve.Scope, seen: observed.Observed) -> model.Finding:
    results, unsure = seen.results, seen.unsure
    cited: dict[tuple[Any, ...], model.Cite] = {}
    for *_, r in results:
        for d in (r.egress, r.ingress):
            key = (str(d.direction), d.allowed_by, d.policies, d.isolated)
            cite = model.Cite(text=f"{d.direction}: {d.reason}", source=source_of(d))
            cited.setdefault(key, cite)
    cites = tuple(cited.values())[:4]
    missing = "; ".join(
        part
        for part in (
            hidden.commands(seen.gaps),
            "fix the invalid policies listed, then diagnose again" if seen.invalid else "",
        )
        if part
    )
    return finding(
        model.Verdict.INCONCLUSIVE if unsure else model.Verdict.RULED_OUT,
        f"NetworkPolicies allow {scope.source} to reach {scope.target} on port {scope.port} "
        f"({len(results)} flow{'s' if len(results) != 1 else ''} checked)"
        + (" - but some policies are invalid or could not be read" if unsure else ""),
        confidence=model.Confidence.HIGH,
        evidence=(*cites, *seen.extra),
        details=seen.details,
        missing=missing,
    )


def unresolved_target(
    ev: evidence_model.Evidence, scope: resolve.Scope, sources: list[peers.Peer]
) -> model.Finding:
    isolating = {
        p.ref
        for s in sources
        for p in matching.isolating_policies(cluster.of(ev), s, netpol_model.Direction.EGRESS)
    }
    if scope.external and not isolating:
        return finding(
            model.Verdict.RULED_OUT,
            f"no NetworkPolicy isolates {scope.source} for egress",
            confidence=model.Confidence.HIGH,
        )
    what = (
        f"{scope.target} has no address in the evidence"
        if scope.external
        else f"{scope.target} has no pods"
    )
    return finding(
        model.Verdict.INCONCLUSIVE,
        f"cannot evaluate policies: {what}",
        evidence=tuple(
            model.Cite(text=f"egress isolated by {r}", source=r) for r in sorted(isolating)
        ),
        missing=(
            f"the address of {scope.target_host}: `paramedic probe dns {scope.target_host}`, "
            "or diagnose with its IP"
            if scope.external and scope.target_service is None
            else f"kubectl -n {scope.target_namespace} get pods,endpointslices -o wide"
        ),
    )


def source_of(d: netpol_model.DirectionResult) -> str:
    if not d.allowed and d.decided_by is not None and d.decided_by.layer != "networkpolicy":
        return d.decided_by.ref
    if d.allowed_by:
        return f"{d.allowed_by[0]} {d.direction}[{d.allowed_by[1]}]"
    return ", ".join(d.policies)


def finding(verdict: model.Verdict, summary: str, **kwargs: Any) -> model.Finding:
    kwargs.setdefault("confidence", model.Confidence.MEDIUM)
    kwargs.setdefault("priority", model.Priority.PATH)
    return model.Finding(
        verdict=verdict,
        summary=summary,
        **kwargs,
    )
