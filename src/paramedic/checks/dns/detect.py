"""Detectors of `dns`: each looks at one part of name resolution and appends what it found to
`Found` (a problem with its fix, or a note of what works); `conclude` makes one finding of it:
the problems ranked by priority, else ruled out (or inconclusive without CoreDNS or probe).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from paramedic.checks import clues, dns_names, model
from paramedic.checks.dns import fixes, policy_fixes, problem, server_fixes
from paramedic.kube import names, objects, pods, resolve, services

_DNS_MEANINGS = ("dns-nxdomain", "dns-temporary", "dns-failed")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """Cluster DNS as the evidence shows it: CoreDNS pods, kube-dns and the clients' DNS lines."""

    client_dns: list[clues.Clue]
    dns_pods: list[dict[str, Any]]
    kube_dns: dict[str, Any] | None
    coredns_logs: list[clues.Clue]


@dataclasses.dataclass(slots=True)
class Found:
    """What the detectors found so far: problems (each with its fix) and notes (evidence lines
    of what works). Detectors run in order and append."""

    problems: list[problem.Problem] = dataclasses.field(default_factory=list)
    notes: list[model.Cite] = dataclasses.field(default_factory=list)


def observe(ctx: model.Context) -> Observed:
    ev = ctx.evidence
    dns_pods = [
        p for p in ev.kind("Pod", "kube-system") if objects.labels(p).get("k8s-app") == "kube-dns"
    ]
    return Observed(
        client_dns=clues.first_per_pod(clues.log_clues(ev, ctx.scope.source_pods), _DNS_MEANINGS),
        dns_pods=dns_pods,
        kube_dns=ev.get("Service", "kube-system", "kube-dns"),
        coredns_logs=clues.log_clues(ev, dns_pods),
    )


def coredns(ctx: model.Context, seen: Observed, found: Found) -> None:
    """1. CoreDNS itself: pods ready, kube-dns with ready endpoints."""
    ev, dns_pods, kube_dns = ctx.evidence, seen.dns_pods, seen.kube_dns
    ready = [p for p in dns_pods if pods.is_ready(p)]
    endpoints_ready: list[str] = []
    if kube_dns is not None:
        endpoints_ready, _ = services.endpoint_addresses(
            kube_dns, ev.kind("Endpoints", "kube-system"), ev.kind("EndpointSlice", "kube-system")
        )
    if (dns_pods and not ready) or (kube_dns is not None and dns_pods and not endpoints_ready):
        found.problems.append(
            server_fixes.coredns_down(ev, dns_pods, kube_dns, seen.coredns_logs, seen.client_dns)
        )
    elif dns_pods:
        found.notes.append(
            model.Cite(
                text=f"CoreDNS: {len(ready)}/{len(dns_pods)} pods ready; kube-dns has "
                f"{len(endpoints_ready)} ready endpoint(s)",
                source=objects.ref(kube_dns) if kube_dns else objects.ref(dns_pods[0]),
            )
        )


def port_53(ctx: model.Context, seen: Observed, found: Found) -> None:
    """2. Port 53 blocked by an egress policy (what the network-policy check found)."""
    netpol = ctx.earlier.get("network-policy")
    if netpol is not None and netpol.details.get("dns_egress_blocked"):
        found.problems.append(policy_fixes.egress_blocked(ctx.scope, netpol, seen.client_dns))
    elif netpol is not None and "dns_egress_blocked" in netpol.details:
        found.notes.append(
            model.Cite(text="egress to kube-dns port 53 is allowed", source="check network-policy")
        )


def client_policy(ctx: model.Context, seen: Observed, found: Found) -> None:
    """3a. The client's dnsPolicy: does it use cluster DNS at all?"""
    scope, kube_dns = ctx.scope, seen.kube_dns
    template = scope.source_template()
    if scope.external or template is None:
        return
    kube_dns_ip = str(objects.spec(kube_dns).get("clusterIP") or "") if kube_dns else None
    problem = policy_fixes.dns_policy(scope, template, pods.pod_spec(template), kube_dns_ip)
    if problem is not None:
        found.problems.append(problem)


def configured_names(ctx: model.Context, seen: Observed, found: Found) -> None:
    """3b. The host names the client is configured with, resolved as cluster DNS would."""
    ev, scope = ctx.evidence, ctx.scope
    template = scope.source_template()
    if template is None:
        return
    spec = pods.pod_spec(template)
    known = ev.namespace_names()
    for container in pods.containers(template):
        env = clues.env_values(container, ev, scope.namespace, template)
        for configured in dns_names.configured_hosts(env):
            name = dns_names.cluster_name(configured.host, scope.namespace, known)
            if name is None:
                continue
            note = fixes.ndots_note(configured.host, dns_names.ndots(spec))
            if note is not None and note not in found.notes:
                found.notes.append(note)
            service = ev.get("Service", name.namespace, name.service)
            if service is not None:
                found.notes.append(
                    model.Cite(
                        text=f"{configured.variable} → {configured.host} → {name.fqdn}: the "
                        "Service exists",
                        source=objects.ref(service),
                    )
                )
                continue
            if name.namespace not in known or ev.gaps_about("Service", [name.namespace]):
                continue  # nothing gathered from that namespace: cannot tell
            target = objects.name(scope.target_service) if scope.target_service else None
            if not dns_names.is_db_variable(configured.variable) and name.service != target:
                continue  # another dependency (REDIS_HOST...): not this incident
            found.problems.append(
                fixes.wrong_name(ev, scope, container, configured, name, seen.client_dns)
            )


def recorded_probes(ctx: model.Context, found: Found) -> None:
    """4. Recorded dns probes: a success is a note, a failure evidence or a problem."""
    problems = found.problems
    for probe in ctx.evidence.probes_of("dns"):
        rcode = probe.data.get("rcode") or probe.outcome
        line = f"probe dns {probe.target}: {probe.outcome}"
        if probe.ok:
            addresses = ", ".join(map(str, objects.as_list(probe.data.get("addresses"))))
            found.notes.append(model.Cite(text=f"{line} {addresses}", source="probe dns"))
        elif problems:
            problems[0] = problems[0].with_evidence(
                model.Cite(text=f"{line} (rcode {rcode})", source="probe dns")
            )
        else:
            problems.append(fixes.probe_failed(ctx.scope, probe))


def symptoms_only(ctx: model.Context, seen: Observed, found: Found) -> list[clues.Clue]:
    """5. Client lines only (DNS fails, mechanism unknown), or upstream SERVFAIL for the outside
    name. Returns CoreDNS's upstream-error lines."""
    problems = found.problems
    if seen.client_dns and not problems:
        problems.append(fixes.client_only(ctx.scope, seen.client_dns))
    upstream = [c for c in seen.coredns_logs if c.meaning == "dns-servfail"]
    outside = _outside_name(ctx.scope)
    if outside and not problems and any(outside in c.line for c in upstream):
        problems.append(server_fixes.upstream_failing(ctx.scope, outside, upstream))
    if problems and problems[0].kind == "client-resolution-errors":
        ndots = (n for n in found.notes if "ndots" in n.text)
        problems[0] = dataclasses.replace(problems[0], evidence=(*problems[0].evidence, *ndots))
    return upstream


def conclude(
    ctx: model.Context, seen: Observed, found: Found, upstream: list[clues.Clue]
) -> model.Finding:
    if found.problems:
        return _cause(found.problems, upstream)
    return _no_cause(ctx, seen.dns_pods, found.notes, upstream)


def _outside_name(scope: resolve.Scope) -> str | None:
    """The name outside the cluster that CoreDNS must forward: ExternalName or a host DST."""
    if scope.target_service is not None:
        spec = objects.spec(scope.target_service)
        return str(spec.get("externalName")) if spec.get("type") == "ExternalName" else None
    host = str(scope.target_host)
    return None if not scope.external or names.is_ip(host) else host


def _cause(problems: list[problem.Problem], upstream: list[clues.Clue]) -> model.Finding:
    problems.sort(key=lambda p: p.priority)
    first = problems[0]
    evidence = [c for p in problems for c in p.evidence]
    evidence += [c.cite("CoreDNS: ") for c in upstream[:1]]
    steps = tuple(s for p in problems for s in p.steps)
    return model.Finding(
        verdict=model.Verdict.CAUSE,
        confidence=first.confidence,
        summary=first.summary
        if len(problems) == 1
        else f"{first.summary} (and {len(problems) - 1} more DNS problem"
        f"{'s' if len(problems) > 2 else ''})",
        evidence=tuple(evidence),
        fix=model.Fix(
            summary=first.fix_summary,
            steps=steps,
            alternatives=first.alternatives,
            rollback=first.rollback,
        ),
        why=" ".join(p.why for p in problems),
        verify=first.verify,
        priority=first.priority,
        details={"problems": [p.kind for p in problems]},
    )


def _no_cause(
    ctx: model.Context,
    dns_pods: list[dict[str, Any]],
    notes: list[model.Cite],
    upstream: list[clues.Clue],
) -> model.Finding:
    host = ctx.scope.target_host
    exec_cmd = problem.exec_lookup(ctx.scope, host)
    if not dns_pods and not ctx.evidence.probes_of("dns"):
        return model.Finding(
            verdict=model.Verdict.INCONCLUSIVE,
            confidence=model.Confidence.LOW,
            summary="no CoreDNS pods and no DNS probe in the evidence",
            evidence=tuple(notes),
            missing="CoreDNS state and a lookup from the client: "
            "kubectl get pods,svc,endpointslices -n kube-system -l k8s-app=kube-dns -o yaml; "
            + exec_cmd,
        )
    if upstream:
        notes.append(upstream[0].cite("CoreDNS upstream errors (names outside the cluster only): "))
    probed = any(p.ok for p in ctx.evidence.probes_of("dns"))
    return model.Finding(
        verdict=model.Verdict.RULED_OUT,
        confidence=model.Confidence.HIGH if probed else model.Confidence.MEDIUM,
        summary=f"{host} resolves: CoreDNS is up and the client's configured name exists",
        evidence=tuple(notes),
        verify=problem.verify_lookup(ctx.scope, host),
    )
