"""Check `dns`: does the name the client uses resolve to the database, and is cluster DNS up?

Reads CoreDNS pods, the kube-dns Service and its endpoints, CoreDNS logs (loop FATAL, SERVFAIL
upstream errors), the client's configured host names (DB_HOST, *_HOST, DATABASE_URL) resolved
the way cluster DNS would (short names land in the client's own namespace), the client's
dnsPolicy, recorded dns probes, client log lines of failed resolution, and what the
network-policy check found about port 53. Fixes are exact for the cluster in the evidence.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from paramedic.checks import clues, dns_fixes, dns_names, model, registry
from paramedic.kube import objects, pods, resolve, services

_DNS_MEANINGS = ("dns-nxdomain", "dns-temporary", "dns-failed")


@registry.check(
    "dns",
    title="Cluster DNS resolves the database name",
    needs=("Pod", "Service", "EndpointSlice", "Deployment", "ConfigMap", "logs", "probes:dns"),
)
def run(ctx: model.Context) -> model.Finding:
    ev, scope = ctx.evidence, ctx.scope
    problems: list[dns_fixes.Problem] = []
    notes: list[model.Cite] = []
    client = clues.log_clues(ev, scope.source_pods)
    client_dns = clues.first_per_pod(client, _DNS_MEANINGS)

    # 1. CoreDNS itself
    dns_pods = [
        p for p in ev.kind("Pod", "kube-system") if objects.labels(p).get("k8s-app") == "kube-dns"
    ]
    kube_dns = ev.get("Service", "kube-system", "kube-dns")
    coredns_logs = clues.log_clues(ev, dns_pods)
    ready = [p for p in dns_pods if pods.is_ready(p)]
    endpoints_ready: list[str] = []
    if kube_dns is not None:
        endpoints_ready, _ = services.endpoint_addresses(
            kube_dns, ev.kind("Endpoints", "kube-system"), ev.kind("EndpointSlice", "kube-system")
        )
    if (dns_pods and not ready) or (kube_dns is not None and dns_pods and not endpoints_ready):
        problems.append(dns_fixes.coredns_down(ev, dns_pods, kube_dns, coredns_logs, client_dns))
    elif dns_pods:
        notes.append(
            model.Cite(
                text=f"CoreDNS: {len(ready)}/{len(dns_pods)} pods ready; kube-dns has "
                f"{len(endpoints_ready)} ready endpoint(s)",
                source=objects.ref(kube_dns) if kube_dns else objects.ref(dns_pods[0]),
            )
        )

    # 2. port 53 blocked by an egress policy (what the network-policy check found)
    netpol = ctx.earlier.get("network-policy")
    if netpol is not None and netpol.details.get("dns_egress_blocked"):
        problems.append(dns_fixes.egress_blocked(scope, netpol, client_dns))
    elif netpol is not None and "dns_egress_blocked" in netpol.details:
        notes.append(
            model.Cite(text="egress to kube-dns port 53 is allowed", source="check network-policy")
        )

    # 3. the client's DNS policy and the names it is configured with
    template = scope.source_template()
    spec = pods.pod_spec(template) if template is not None else {}
    if not scope.external and template is not None:
        kube_dns_ip = str(objects.spec(kube_dns).get("clusterIP") or "") if kube_dns else None
        problem = dns_fixes.dns_policy(scope, template, spec, kube_dns_ip)
        if problem is not None:
            problems.append(problem)
    known = clues.known_namespaces(ev)
    for container in pods.containers(template) if template is not None else []:
        env = clues.env_values(container, ev, scope.namespace)
        for configured in dns_names.configured_hosts(env):
            name = dns_names.cluster_name(configured.host, scope.namespace, known)
            if name is None:
                continue
            note = dns_fixes.ndots_note(configured.host, dns_names.ndots(spec))
            if note is not None and note not in notes:
                notes.append(note)
            service = ev.get("Service", name.namespace, name.service)
            if service is not None:
                notes.append(
                    model.Cite(
                        text=f"{configured.variable} → {configured.host} → {name.fqdn}: the "
                        "Service exists",
                        source=objects.ref(service),
                    )
                )
                continue
            if name.namespace not in known:
                continue  # nothing gathered from that namespace: cannot tell
            target = objects.name(scope.target_service) if scope.target_service else None
            if not dns_names.is_db_variable(configured.variable) and name.service != target:
                continue  # another dependency (REDIS_HOST...): not this incident
            problems.append(
                dns_fixes.wrong_name(ev, scope, container, configured, name, client_dns)
            )

    # 4. recorded dns probes
    for probe in ev.probes_of("dns"):
        rcode = probe.data.get("rcode") or probe.outcome
        line = f"probe dns {probe.target}: {probe.outcome}"
        if probe.ok:
            addresses = ", ".join(map(str, objects.as_list(probe.data.get("addresses"))))
            notes.append(
                model.Cite(
                    text=f"{line} {addresses}",
                    source="probe dns",
                )
            )
        elif problems:
            problems[0] = problems[0].with_evidence(
                model.Cite(text=f"{line} (rcode {rcode})", source="probe dns")
            )
        else:
            problems.append(dns_fixes.probe_failed(scope, probe))

    # 5. client lines only: DNS fails, mechanism unknown
    if client_dns and not problems:
        problems.append(dns_fixes.client_only(scope, client_dns))
    upstream = [c for c in coredns_logs if c.meaning == "dns-servfail"]
    outside = _outside_name(scope)
    if outside and not problems and any(outside in c.line for c in upstream):
        problems.append(dns_fixes.upstream_failing(scope, outside, upstream))
    if problems and problems[0].kind == "client-resolution-errors":
        problems[0] = dataclasses.replace(
            problems[0], evidence=(*problems[0].evidence, *(n for n in notes if "ndots" in n.text))
        )
    if problems:
        return _cause(problems, upstream)
    return _no_cause(ctx, dns_pods, notes, upstream)


def _outside_name(scope: resolve.Scope) -> str | None:
    """The name outside the cluster that CoreDNS must forward: ExternalName or a host DST."""
    if scope.target_service is not None:
        spec = objects.spec(scope.target_service)
        return str(spec.get("externalName")) if spec.get("type") == "ExternalName" else None
    host = str(scope.target_host)
    return None if not scope.external or resolve.is_ip(host) else host


def _cause(problems: list[dns_fixes.Problem], upstream: list[clues.Clue]) -> model.Finding:
    problems.sort(key=lambda p: p.priority)
    first = problems[0]
    evidence = [c for p in problems for c in p.evidence]
    evidence += [c.cite("CoreDNS: ") for c in upstream[:1]]
    steps = tuple(s for p in problems for s in p.steps)
    return model.Finding(
        check="dns",
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
    exec_cmd = dns_fixes.exec_lookup(ctx.scope, host)
    if not dns_pods and not ctx.evidence.probes_of("dns"):
        return model.Finding(
            check="dns",
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
        check="dns",
        verdict=model.Verdict.RULED_OUT,
        confidence=model.Confidence.HIGH if probed else model.Confidence.MEDIUM,
        summary=f"{host} resolves: CoreDNS is up and the client's configured name exists",
        evidence=tuple(notes),
        verify=exec_cmd,
    )
