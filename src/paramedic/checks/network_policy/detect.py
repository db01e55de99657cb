"""Detectors of `network-policy`: every source -> target flow judged by the exact engine
(`observe`), then one finding (`verdict`): blocked, with the minimal patch, its blast radius and
the rules that deny (here; the fix's steps are `fixes`), or not blocked (`allowed`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from paramedic import errors
from paramedic.checks import clues, model
from paramedic.checks.network_policy import allowed, deny_response, fixes, flows, hidden, observed
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, resolve
from paramedic.netpol import cluster, dns_fix, engine, explain, patch
from paramedic.netpol import model as netpol_model
from paramedic.netpol import scope as netpol_scope


def _no_source(scope: resolve.Scope) -> model.Finding:
    return allowed.finding(
        model.Verdict.INCONCLUSIVE,
        f"no pod or pod template for {scope.source}",
        missing=f"kubectl -n {scope.namespace} get pods --show-labels",
    )


def observe(ctx: model.Context) -> observed.Observed | model.Finding:
    """The judged flows, or a finding when the source or target does not resolve or the
    policies cannot be evaluated."""
    ev, scope = ctx.evidence, ctx.scope
    sources = netpol_scope.sources(scope)
    protocol = netpol_scope.protocol(scope)
    if not sources:
        return _no_source(scope)
    targets = netpol_scope.targets(ev, scope, protocol)
    if not targets:
        return allowed.unresolved_target(ev, scope, sources)
    semantics, cni_why = engine.semantics_for(ev, "auto")
    try:
        results = [
            (src, dst, port, engine.check_flow(ev, src, dst, port, protocol, semantics))
            for src in sources
            for dst, port in targets
        ]
        dns_results = engine.dns_egress(ev, sources[0], semantics)
    except errors.InputError as exc:  # a malformed port or protocol in a hand-made bundle
        return allowed.finding(
            model.Verdict.INCONCLUSIVE,
            f"cannot evaluate policies: {exc}",
            missing=f"kubectl -n {scope.target_namespace or scope.namespace} "
            "get services,pods -o yaml",
        )
    dns_cites = tuple(
        model.Cite(
            text=f"DNS egress blocked: {r.protocol}/53 to {r.dst}: {r.egress.reason}",
            source=allowed.source_of(r.egress),
        )
        for r in dns_results
        if not r.egress.allowed
    )[:2]
    invalid = tuple(dict.fromkeys(line for *_, r in results for line in r.invalid))
    invalid_cites = tuple(
        model.Cite(text=line, source=line.partition(" is invalid")[0]) for line in invalid
    )
    unmodelled = tuple({u.ref: u for *_, r in results for u in r.unmodelled}.values())
    unmodelled_cites = tuple(
        model.Cite(text=f"not evaluated: {u.ref}: {u.why}", source=u.ref) for u in unmodelled
    )
    # A policy we could not read may isolate (so "allowed" is unsure) or allow (so "denied" is).
    spaces = {scope.namespace, scope.target_namespace or scope.namespace}
    gaps = hidden.gaps(ev, spaces) + hidden.etcd_datastore(ev)
    gap_cites = tuple(model.Cite(text=f"evidence gap: {g}", source="gathering") for g in gaps)
    return observed.Observed(
        sources=sources,
        results=results,
        protocol=protocol,
        details={
            "flows": [r.as_dict() for *_, r in results[:50]],
            "dns_egress_blocked": any(not r.egress.allowed for r in dns_results),
            "dns_egress": [r.as_dict() for r in dns_results if not r.egress.allowed],
            "dns_patch": dns_fix.dns_patch(ev, sources[0], semantics).as_dict()
            if any(not r.egress.allowed for r in dns_results)
            else None,
            "cni": cni_why,
            "unmodelled": [u.as_dict() for u in unmodelled],
        },
        extra=(*invalid_cites, *unmodelled_cites, *gap_cites, *dns_cites),
        unsure=bool(invalid or gaps),
        gaps=gaps,
        invalid=invalid,
        unmodelled=unmodelled,
        semantics=semantics,
    )


def verdict(ctx: model.Context, seen: observed.Observed) -> model.Finding:
    """Blocked (with the minimal patch) or allowed; a policy gap lowers a block's confidence."""
    ev, scope = ctx.evidence, ctx.scope
    denied = [item for item in seen.results if not item[3].allowed]
    recorded = flows.compare(ev, seen.results)
    if recorded.agreeing or recorded.disagreeing:
        seen.details["hubble"] = {
            "agreeing": len(recorded.agreeing),
            "disagreeing": len(recorded.disagreeing),
        }
    if not denied:
        if recorded.disagreeing:
            return allowed.recorded_drops(scope, seen, recorded)
        if seen.unmodelled and not seen.unsure:
            return allowed.unmodelled(scope, seen)
        return allowed.allowed(scope, seen)
    finding = _blocked(ev, scope, seen, denied)
    finding = dataclasses.replace(finding, evidence=(*finding.evidence, *recorded.cites()))
    if seen.gaps or seen.unmodelled or recorded.disagreeing:
        return dataclasses.replace(finding, confidence=model.Confidence.MEDIUM)
    return finding


def _blockers(d: netpol_model.DirectionResult) -> tuple[str, ...]:
    """What blocks one side: the deciding admin/baseline policy, else the isolating ones."""
    if d.decided_by is not None and d.decided_by.layer != "networkpolicy":
        return (d.decided_by.ref,)
    return d.policies


def _blocked(
    ev: evidence_model.Evidence, scope: resolve.Scope, obs: observed.Observed, denied: list[Any]
) -> model.Finding:
    results, protocol = obs.results, obs.protocol
    details, extra = obs.details, obs.extra
    src, dst, port, first = denied[0]
    fix = patch.minimal_patch(ev, first, src, dst, port, protocol, obs.semantics)
    sides = sorted({str(d.direction) for *_, r in denied for d in r.blocking})
    policies = sorted({p for *_, r in denied for d in r.blocking for p in _blockers(d)})
    layer = next(
        (d.decided_by.layer for *_, r in denied for d in r.blocking if d.decided_by is not None),
        "",
    )
    cites = [
        model.Cite(
            text=f"{len(denied)} of {len(results)} flows denied, e.g. {first.summary()}",
            source=objects.ref(src.obj) if src.obj is not None else scope.source,
        )
    ]
    rule_cites: list[model.Cite] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for *_, r in denied:
        for d in r.blocking:
            if (str(d.direction), d.policies) not in seen and len(seen) < 4:
                seen.add((str(d.direction), d.policies))
                head, *policy_lines = _denial_cites(ev, d)
                cites.append(head)
                rule_cites.extend(policy_lines)
    flows = ", ".join(f.describe() for f in fix.blast_radius[:6])
    more = f" and {len(fix.blast_radius) - 6} more" if len(fix.blast_radius) > 6 else ""
    count = len(fix.blast_radius)
    text = f"patch opens exactly {count} flow{'s' if count != 1 else ''}: {flows}{more}"
    if not count:
        text = (
            "patch opens no flow between running pods (the source or target has none now); "
            "it admits exactly this flow once they run"
        )
    cites.append(model.Cite(text=text, source="paramedic netpol matrix (before/after)"))
    if layer == "istio":  # what a sidecar's refusal looks like in the logs, when they hold it
        seen_logs = clues.log_clues(ev, (*scope.target_pods, *scope.source_pods))
        cites += [c.cite() for c in clues.first_per_pod(seen_logs, _MESH_MEANINGS, limit=2)]
    if fix.closed:
        cites.append(
            model.Cite(
                text=f"warning: the patch would also close {len(fix.closed)} flow(s), "
                f"e.g. {fix.closed[0].describe()}",
                source="paramedic netpol matrix",
            )
        )
    cites.extend(rule_cites)
    if layer == "cilium":
        cites.extend(deny_response.cites(ev, scope.source_pods))
    details.update(
        blast_radius=[f.as_dict() for f in fix.blast_radius],
        patch=fix.as_dict(),
        blocking_sides=sides,
        blocking_policies=policies,
    )
    port_text = f"{protocol} {port}" + (
        f" (Service port {scope.port})" if scope.port not in (None, port) else ""
    )
    return allowed.finding(
        model.Verdict.CAUSE,
        f"{', '.join(policies)} block{'s' if len(policies) == 1 else ''} "
        f"{' and '.join(sides)} from "
        f"{scope.source} to {scope.target} on {port_text}",
        confidence=model.Confidence.HIGH,
        evidence=(*cites, *extra),
        fix=fixes.fix(ev, scope, fix, protocol, port),
        why=fixes.why(layer),
        verify=fixes.verify(scope),
        details=details,
    )


_MESH_MEANINGS = ("mesh-mtls-refused", "mesh-authz-denied", "mesh-upstream-reset", "conn-reset")


def _denial_cites(ev: evidence_model.Evidence, d: netpol_model.DirectionResult) -> list[model.Cite]:
    """The reason in one line, then what each isolating policy does allow, one line each."""
    head, _, _ = d.reason.partition(" (rules: ")
    cites = [model.Cite(text=f"{d.direction}: {head}", source=allowed.source_of(d))]
    by_ref = {p.ref: p for p in cluster.of(ev).policies}
    for ref in d.policies[:3]:
        policy = by_ref.get(ref)
        if policy is not None:
            rules = explain.describe_rules(policy, d.direction).removeprefix(f"{ref}: ")
            cites.append(model.Cite(text=f"{ref} allows only: {rules}", source=ref))
    return cites
