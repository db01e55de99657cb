"""Detectors of `network-policy`: every source -> target flow judged by the exact engine
(`observe`), then one finding: blocked, with the minimal patch and its blast radius, or allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import yaml

from paramedic import errors
from paramedic.checks import clues, model
from paramedic.checks.network_policy import deny_response, flows, hidden
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, resolve
from paramedic.netpol import cluster, dns_fix, engine, explain, form, patch, peers
from paramedic.netpol import model as netpol_model
from paramedic.netpol import scope as netpol_scope
from paramedic.netpol.calico import fix as calico_fix


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """Every source -> target flow judged by the engine, and what qualifies the answer."""

    sources: list[peers.Peer]
    results: list[Flow]
    protocol: str
    details: dict[str, Any]
    extra: tuple[model.Cite, ...]
    """Invalid policy lines, evidence gaps about policies, blocked DNS egress."""
    unsure: bool
    """A policy could not be read or parsed: 'allowed' is not certain."""
    gaps: tuple[evidence_model.Gap, ...]
    """What hid policy objects from the evidence (hidden.py)."""
    invalid: tuple[str, ...] = ()
    """One line per policy that could not be parsed."""
    unmodelled: tuple[netpol_model.Unmodelled, ...] = ()
    """Policy objects that could block these flows but that no layer evaluates."""
    semantics: netpol_model.Semantics = netpol_model.DEFAULT


Flow = tuple[Any, Any, Any, Any]
"""(source, target, port, engine verdict)."""


def _no_source(scope: resolve.Scope) -> model.Finding:
    return _finding(
        model.Verdict.INCONCLUSIVE,
        f"no pod or pod template for {scope.source}",
        missing=f"kubectl -n {scope.namespace} get pods --show-labels",
    )


def observe(ctx: model.Context) -> Observed | model.Finding:
    """The judged flows, or a finding when the source or target does not resolve or the
    policies cannot be evaluated."""
    ev, scope = ctx.evidence, ctx.scope
    sources = netpol_scope.sources(scope)
    protocol = netpol_scope.protocol(scope)
    if not sources:
        return _no_source(scope)
    targets = netpol_scope.targets(ev, scope, protocol)
    if not targets:
        return _unresolved_target(ev, scope, sources)
    semantics, cni_why = engine.semantics_for(ev, "auto")
    try:
        results = [
            (src, dst, port, engine.check_flow(ev, src, dst, port, protocol, semantics))
            for src in sources
            for dst, port in targets
        ]
        dns_results = engine.dns_egress(ev, sources[0], semantics)
    except errors.InputError as exc:  # a malformed port or protocol in a hand-made bundle
        return _finding(
            model.Verdict.INCONCLUSIVE,
            f"cannot evaluate policies: {exc}",
            missing=f"kubectl -n {scope.target_namespace or scope.namespace} "
            "get services,pods -o yaml",
        )
    dns_cites = tuple(
        model.Cite(
            text=f"DNS egress blocked: {r.protocol}/53 to {r.dst}: {r.egress.reason}",
            source=_source_of(r.egress),
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
    return Observed(
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


def verdict(ctx: model.Context, seen: Observed) -> model.Finding:
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
            return _recorded_drops(scope, seen, recorded)
        if seen.unmodelled and not seen.unsure:
            return _unmodelled(scope, seen)
        return _allowed(scope, seen)
    finding = _blocked(ev, scope, seen, denied)
    finding = dataclasses.replace(finding, evidence=(*finding.evidence, *recorded.cites()))
    if seen.gaps or seen.unmodelled or recorded.disagreeing:
        return dataclasses.replace(finding, confidence=model.Confidence.MEDIUM)
    return finding


def _recorded_drops(
    scope: resolve.Scope, seen: Observed, recorded: flows.Recorded
) -> model.Finding:
    """The policies allow every flow, but Hubble recorded the data path dropping some."""
    return _finding(
        model.Verdict.INCONCLUSIVE,
        f"the policies in the evidence allow {scope.source} to reach {scope.target} on port "
        f"{scope.port}, but Hubble recorded {len(recorded.disagreeing)} policy drop(s) of these "
        "flows: the evidence is incomplete",
        evidence=(recorded.disagreement(), *seen.extra),
        details=seen.details,
        missing="kubectl get networkpolicies,ciliumnetworkpolicies.cilium.io -A -o yaml "
        "(every policy that applies), and a fresh `hubble observe --verdict DROPPED -o jsonpb`",
    )


def _unmodelled(scope: resolve.Scope, seen: Observed) -> model.Finding:
    """Allowed by every layer evaluated, but something unevaluated could still block it."""
    refs = [u.ref for u in seen.unmodelled]
    shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
    return _finding(
        model.Verdict.INCONCLUSIVE,
        f"the policies evaluated allow {scope.source} to reach {scope.target} on port "
        f"{scope.port}, but {shown} could still block it (not evaluated)",
        evidence=seen.extra,
        details=seen.details,
        missing="; ".join(dict.fromkeys(u.command for u in seen.unmodelled[:3])),
    )


def _blockers(d: netpol_model.DirectionResult) -> tuple[str, ...]:
    """What blocks one side: the deciding admin/baseline policy, else the isolating ones."""
    if d.decided_by is not None and d.decided_by.layer != "networkpolicy":
        return (d.decided_by.ref,)
    return d.policies


def _blocked(
    ev: evidence_model.Evidence, scope: resolve.Scope, observed: Observed, denied: list[Any]
) -> model.Finding:
    results, protocol = observed.results, observed.protocol
    details, extra = observed.details, observed.extra
    src, dst, port, first = denied[0]
    fix = patch.minimal_patch(ev, first, src, dst, port, protocol, observed.semantics)
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
    names = [objects.ref(o).partition(" ")[2] for o in fix.objects]
    steps = tuple(
        model.FixStep(
            description=f"Create {_kind(o)} {n} (paste as is"
            + (f"; {calico_fix.CRD_ONLY_WHY})" if calico_fix.tool(ev, o) == "calicoctl" else ")"),
            language="shell",
            content=f"{calico_fix.tool(ev, o)} apply -f - <<'EOF'\n"
            + yaml.safe_dump(o, sort_keys=False)
            + "EOF\n",
            action={"op": "create", "object": o},
        )
        for n, o in zip(names, fix.objects, strict=True)
    )
    steps += tuple(
        model.FixStep(
            description=f"Narrow the deny rule of {e.target} so it no longer matches this flow "
            "(no allow rule can outrank a Cilium deny)",
            language="shell",
            content=e.command,
            action={"op": "patch", "target": e.target, "patch": [dict(e.op)]},
        )
        for e in fix.edits
    )
    alternatives = tuple(
        calico_fix.commands(o, ev)[0] for o in fix.objects if calico_fix.is_v3(o)
    ) + tuple(
        f"edit {p.target} in place instead (opens {p.opened} flow{'s' if p.opened != 1 else ''}): "
        f"{p.command}"
        for p in fix.in_place
    )
    rollback = "; ".join(
        [*(_delete(o, ev) for o in fix.objects), *(e.undo_command for e in fix.edits)]
    )
    port_text = f"{protocol} {port}" + (
        f" (Service port {scope.port})" if scope.port not in (None, port) else ""
    )
    return _finding(
        model.Verdict.CAUSE,
        f"{', '.join(policies)} block{'s' if len(policies) == 1 else ''} "
        f"{' and '.join(sides)} from "
        f"{scope.source} to {scope.target} on {port_text}",
        confidence=model.Confidence.HIGH,
        evidence=(*cites, *extra),
        fix=model.Fix(
            summary=f"{_doing(names, fix.edits)}: allow exactly {protocol} {port} from "
            f"{scope.source} to {scope.target}",
            steps=steps,
            alternatives=alternatives,
            rollback=rollback,
        ),
        why={
            "admin": _ADMIN_WHY,
            "calico": _CALICO_WHY,
            "cilium": _CILIUM_WHY,
            "istio": _ISTIO_WHY,
        }.get(layer, _WHY),
        verify=_verify(scope),
        details=details,
    )


_WHY = (
    "NetworkPolicies only add allowances: once a policy isolates a pod for a direction, "
    "the union of all rules of all policies selecting it is what passes, in no order. "
    "A new policy that selects only these pods and admits only this peer (namespace by name "
    "plus its identifying labels) on this protocol and port opens exactly the listed flows "
    "and leaves every other denial in place; rollback is one delete."
)
_ADMIN_WHY = (
    "An AdminNetworkPolicy is evaluated before every NetworkPolicy: lower priority numbers "
    "first, rules in order, and an Allow or Deny there is final, so no NetworkPolicy can open "
    "what it denies. An Allow rule that admits only this peer on this port, in a policy of "
    "higher precedence (a lower priority number) selecting only these pods, opens exactly the "
    "listed flows and leaves the Deny in place for everything else; rollback is one delete."
)


_CALICO_WHY = (
    "Calico evaluates its tiers in order (lower order first), the policies of a tier in order, "
    "and rules in order: a Deny there is final, so no Kubernetes NetworkPolicy (default tier, "
    "order 1000) can open what it denies. A Calico policy in the same tier with a lower order, "
    "selecting only these pods and allowing only this peer on this port, is evaluated first and "
    "opens exactly the listed flows; the Deny stays in place for everything else; rollback is "
    "one delete."
)


_CILIUM_WHY = (
    "Cilium applies every deny rule of every policy selecting a pod before any allow rule, and "
    "allow rules of all policies (CiliumNetworkPolicies and NetworkPolicies alike) are a union. "
    "A pod in default deny is opened by a CiliumNetworkPolicy that selects only these pods and "
    "admits only this peer on this port; a matching deny rule cannot be outranked, so it is "
    "narrowed to leave out exactly this peer. The blast radius is computed from the matrix "
    "before and after; rollback is one delete, or the patch's undo."
)


def _doing(names: list[str], edits: tuple[Any, ...]) -> str:
    parts = [f"create {', '.join(names)}"] if names else []
    parts += [f"narrow the deny rule of {e.target}" for e in edits]
    return " and ".join(parts) or "change nothing"


_MESH_MEANINGS = ("mesh-mtls-refused", "mesh-authz-denied", "mesh-upstream-reset", "conn-reset")
_ISTIO_WHY = (
    "The destination's Istio sidecar refuses the connection after the network let it through "
    "(the client sees it closed right after it opened). PeerAuthentication STRICT accepts only "
    "mutual TLS, which a client without sidecar cannot speak; a DENY AuthorizationPolicy beats "
    "every ALLOW; once an ALLOW policy selects the workload, only what one of its rules matches "
    "gets in. For STRICT, injecting the client is safer than a plaintext exception: it keeps "
    "the connection authenticated and encrypted and gives the client a principal to name, "
    "while portLevelMtls PERMISSIVE accepts plaintext on that port from every client without "
    "sidecar; each fix opens exactly the flows listed for it, and rollback is one delete."
)


def _kind(obj: Mapping[str, Any]) -> str:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kind = str(obj["kind"])
    return f"{kind}.{group}" if kind == "NetworkPolicy" and group == calico_fix.GROUP else kind


def _delete(obj: Mapping[str, Any], ev: evidence_model.Evidence) -> str:
    kind = str(obj["kind"])
    if calico_fix.is_v3(obj):
        return calico_fix.commands(obj, ev)[1]
    if kind == "NetworkPolicy":
        return f"kubectl -n {objects.namespace(obj)} delete networkpolicy {objects.name(obj)}"
    group = str(obj["apiVersion"]).rpartition("/")[0]
    where = f"-n {objects.namespace(obj)} " if objects.namespace(obj) else ""
    return f"kubectl {where}delete {form.resource(kind, group)} {objects.name(obj)}"


def _allowed(scope: resolve.Scope, seen: Observed) -> model.Finding:
    results, unsure = seen.results, seen.unsure
    cited: dict[tuple[Any, ...], model.Cite] = {}
    for *_, r in results:
        for d in (r.egress, r.ingress):
            key = (str(d.direction), d.allowed_by, d.policies, d.isolated)
            cite = model.Cite(text=f"{d.direction}: {d.reason}", source=_source_of(d))
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
    return _finding(
        model.Verdict.INCONCLUSIVE if unsure else model.Verdict.RULED_OUT,
        f"NetworkPolicies allow {scope.source} to reach {scope.target} on port {scope.port} "
        f"({len(results)} flow{'s' if len(results) != 1 else ''} checked)"
        + (" - but some policies are invalid or could not be read" if unsure else ""),
        confidence=model.Confidence.HIGH,
        evidence=(*cites, *seen.extra),
        details=seen.details,
        missing=missing,
    )


def _unresolved_target(
    ev: evidence_model.Evidence, scope: resolve.Scope, sources: list[peers.Peer]
) -> model.Finding:
    isolating = {
        p.ref
        for s in sources
        for p in explain.isolating_policies(cluster.of(ev), s, netpol_model.Direction.EGRESS)
    }
    if scope.external and not isolating:
        return _finding(
            model.Verdict.RULED_OUT,
            f"no NetworkPolicy isolates {scope.source} for egress",
            confidence=model.Confidence.HIGH,
        )
    what = (
        f"{scope.target} has no address in the evidence"
        if scope.external
        else f"{scope.target} has no pods"
    )
    return _finding(
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


def _denial_cites(ev: evidence_model.Evidence, d: netpol_model.DirectionResult) -> list[model.Cite]:
    """The reason in one line, then what each isolating policy does allow, one line each."""
    head, _, _ = d.reason.partition(" (rules: ")
    cites = [model.Cite(text=f"{d.direction}: {head}", source=_source_of(d))]
    by_ref = {p.ref: p for p in cluster.of(ev).policies}
    for ref in d.policies[:3]:
        policy = by_ref.get(ref)
        if policy is not None:
            rules = explain.describe_rules(policy, d.direction).removeprefix(f"{ref}: ")
            cites.append(model.Cite(text=f"{ref} allows only: {rules}", source=ref))
    return cites


def _source_of(d: netpol_model.DirectionResult) -> str:
    if not d.allowed and d.decided_by is not None and d.decided_by.layer != "networkpolicy":
        return d.decided_by.ref
    if d.allowed_by:
        return f"{d.allowed_by[0]} {d.direction}[{d.allowed_by[1]}]"
    return ", ".join(d.policies)


def _verify(scope: resolve.Scope) -> str:
    src = (
        objects.name(scope.source_workload)
        if scope.source_workload
        else (objects.name(scope.source_pods[0]) if scope.source_pods else scope.source)
    )
    target = (
        scope.target_host
        if scope.external
        else (f"{scope.target_namespace}/{objects.name(scope.target_service or {})}")
    )
    return (
        f"paramedic diagnose -n {scope.namespace} --from {src} --to {target} --port {scope.port}"
        "  # expect network-policy under 'Ruled out'"
    )


def _finding(verdict: model.Verdict, summary: str, **kwargs: Any) -> model.Finding:
    kwargs.setdefault("confidence", model.Confidence.MEDIUM)
    kwargs.setdefault("priority", model.Priority.PATH)
    return model.Finding(
        verdict=verdict,
        summary=summary,
        **kwargs,
    )
