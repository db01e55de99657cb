"""The rule every check obeys, applied by the engine: "ruled out" only from evidence present and
examined.

A check's required needs (evidence.needs: every need not marked optional) must be in the
evidence for it to rule its cause out: objects of a kind that no gap hides, logs of the side
whose logs it reads, metrics of the pods it judges. When one is missing and nothing it accepts
`instead` is there, a ruled-out finding becomes inconclusive, says what is missing and gives the
exact command that gets it. Causes and warnings stand: they rest on what was found.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import model
from paramedic.evidence import needs
from paramedic.kube import objects

DNS_NAMESPACE = needs.DNS_NAMESPACE


def honest(
    finding: model.Finding, wanted: Sequence[needs.Need], ctx: model.Context
) -> model.Finding:
    """`finding`, or an inconclusive one when it rules out without its required evidence."""
    if finding.verdict is not model.Verdict.RULED_OUT:
        return finding
    lacking = unmet(wanted, ctx)
    if not lacking:
        return finding
    what = ", ".join(describe(n, ctx) for n in lacking)
    commands = "; ".join(f"{describe(n, ctx)}: {command(n, ctx)}" for n in lacking)
    return dataclasses.replace(
        finding,
        verdict=model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.LOW,
        summary=f"not ruled out: {what} missing ({finding.summary})",
        missing=commands + (f"; {finding.missing}" if finding.missing else ""),
    )


def unmet(wanted: Sequence[needs.Need], ctx: model.Context) -> list[needs.Need]:
    """The required needs that are absent or hidden by a gap, with no stand-in present."""
    return [
        n
        for n in wanted
        if not n.optional
        and not present(n, ctx)
        and not any(present(alt, ctx) for alt in n.instead)
    ]


def present(need: needs.Need, ctx: model.Context) -> bool:
    ev = ctx.evidence
    if need.kind.startswith(needs.PROBE):
        return bool(ev.probes_of(need.kind.removeprefix(needs.PROBE)))
    if need.is_object:
        return not ev.gaps_about(need.key, _namespaces(need.scope, ctx))
    pods = _side(need.scope, ctx)
    if not pods:
        return True  # nothing on that side to read: nothing is missing
    keys = {(objects.namespace(p), objects.name(p)) for p in pods}
    if need.kind == needs.METRICS:
        return any((objects.namespace(m), objects.name(m)) in keys for m in ev.metrics)
    return any((ns, pod) in keys for ns, pod, _ in ev.logs)


def describe(need: needs.Need, ctx: model.Context) -> str:
    side = {
        needs.Scope.SOURCE: "the client's",
        needs.Scope.TARGET: "the database's",
        needs.Scope.DNS: "CoreDNS's",
    }.get(need.scope, "the")
    if need.kind == needs.LOGS:
        return f"{side} logs"
    if need.kind == needs.METRICS:
        return f"{side} pod metrics"
    if need.kind.startswith(needs.PROBE):
        return f"a {need.kind.removeprefix(needs.PROBE)} probe"
    spaces = sorted(s for s in _namespaces(need.scope, ctx) or () if s)
    where = f" in {', '.join(spaces)}" if spaces else ""
    hidden = ctx.evidence.gaps_about(need.key, _namespaces(need.scope, ctx))
    return f"{need.key} objects{where}" + (f" ({hidden[0]})" if hidden else "")


def command(need: needs.Need, ctx: model.Context) -> str:
    """The exact command that gets the evidence (no command ever prints a Secret value)."""
    scope = ctx.scope
    if need.kind.startswith(needs.PROBE):
        flag = "--db-probe" if need.kind == needs.PROBE + "postgres" else "--probe-pod"
        target = scope.target_host if scope.external else scope.target
        return f"paramedic diagnose -n {scope.namespace} --from {scope.source} --to {target} {flag}"
    if need.kind in (needs.LOGS, needs.METRICS):
        pods = _side(need.scope, ctx)
        ns = objects.namespace(pods[0]) if pods else scope.namespace
        if need.kind == needs.METRICS:
            return f"kubectl top pod -n {ns} --containers"
        workload = scope.source_workload if need.scope is needs.Scope.SOURCE else None
        what = (
            f"{str(workload.get('kind', '')).lower()}/{objects.name(workload)}"
            if workload is not None
            else objects.name(pods[0])
            if pods
            else ""
        )
        return f"kubectl logs -n {ns} {what} --all-containers --tail=200"
    spaces = _namespaces(need.scope, ctx)
    verb = "describe" if need.kind == "Secret" else "get"  # describe shows key sizes, not values
    tail = "" if need.kind == "Secret" else " -o yaml"
    # a kind of a named group by resource.group: `kubectl get networkpolicy` would read
    # networking.k8s.io's, never Calico's networkpolicies.projectcalico.org
    what = f"{need.resource}.{need.group}" if need.group else need.kind.lower()
    if spaces is None:
        return f"kubectl {verb} {what}{tail}"
    return "; ".join(f"kubectl {verb} {what} -n {s}{tail}" for s in sorted(spaces))


def _namespaces(scope: needs.Scope, ctx: model.Context) -> frozenset[str] | None:
    """Where a need of `scope` looks; None for cluster-wide."""
    return needs.namespaces(scope, ctx.scope.namespace, ctx.scope.target_namespace)


def _side(scope: needs.Scope, ctx: model.Context) -> Sequence[Mapping[str, Any]]:
    """The pods whose logs or metrics a need of `scope` reads."""
    if scope is needs.Scope.SOURCE:
        return ctx.scope.source_pods
    if scope is needs.Scope.DNS:
        return [
            p
            for p in ctx.evidence.kind("Pod", DNS_NAMESPACE)
            if objects.labels(p).get("k8s-app") == "kube-dns"
        ]
    if scope is needs.Scope.TARGET:
        return ctx.scope.target_pods
    return [*ctx.scope.source_pods, *ctx.scope.target_pods]
