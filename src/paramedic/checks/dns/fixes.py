"""Fixes for the name itself: a configured host that lands on a missing Service, the ndots
search-path cost, a failed dns probe, and client resolution errors whose mechanism the evidence
does not show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, dns_names, model
from paramedic.checks.dns.problem import Problem, client_cites, exec_lookup, verify_lookup
from paramedic.evidence import model as evidence_model
from paramedic.evidence import probes_file
from paramedic.kube import objects, resolve


def ndots_note(host: str, ndots: int) -> model.Cite | None:
    """The search-path cost of a name with fewer dots than ndots (None when there is none)."""
    dots = host.rstrip(".").count(".")
    if host.endswith(".") or dots >= ndots:
        return None
    return model.Cite(
        text=f"ndots {ndots}: {host} has {dots} dot(s), so each lookup first tries the search "
        f"suffixes (at least 3, for A and AAAA); {host.rstrip('.')}. with a trailing dot skips them"
    )


def wrong_name(
    ev: evidence_model.Evidence,
    scope: resolve.Scope,
    container: Mapping[str, Any],
    configured: dns_names.ConfiguredHost,
    name: dns_names.ClusterName,
    client: Sequence[clues.Clue],
) -> Problem:
    right = _right_service(ev, scope, name.service)
    elsewhere = sorted(
        objects.namespace(s) for s in ev.kind("Service") if objects.name(s) == name.service
    )
    template = scope.source_template()
    cites = [
        model.Cite(
            text=f"{configured.variable}={configured.host} → {name.fqdn}"
            + (" (short names resolve in the client's namespace)" if name.searched else ""),
            source=objects.ref(template) if template else "",
        ),
        model.Cite(
            text=f"no Service {name.service!r} in namespace {name.namespace}"
            + (
                f"; Services named {name.service!r} exist in: {', '.join(elsewhere)}"
                if elsewhere
                else ""
            ),
            source=f"Namespace {name.namespace}",
        ),
        *client_cites(client),
    ]
    steps: tuple[model.FixStep, ...] = ()
    ref = clues.workload_ref(template)
    summary = (
        f"{configured.variable}={configured.host} names a Service that does not exist ({name.fqdn})"
    )
    if right and ref and template is not None and not configured.from_url:
        kind, ns, wl = ref
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": container.get("name"),
                                "env": [{"name": configured.variable, "value": right}],
                            }
                        ]
                    }
                }
            }
        }
        steps = (
            model.FixStep(
                description="Point the client at the right Service (this rolls the pods):",
                language="shell",
                content=f"kubectl set env {kind}/{wl} -n {ns} -c {container.get('name')} "
                f"{configured.variable}={right}",
                action={"op": "patch", "target": objects.ref(template), "patch": patch},
            ),
        )
    elif right:
        steps = (
            model.FixStep(
                description="Change the host part of the URL:",
                language="text",
                content=f"in {configured.variable}, replace host {configured.host} by {right}",
            ),
        )
    return Problem(
        kind="wrong-name",
        summary=summary,
        evidence=tuple(cites),
        fix_summary=f"use {right}"
        if right
        else f"create Service {name.namespace}/{name.service} or fix {configured.variable}",
        steps=steps,
        why="Cluster DNS only answers for Services that exist; a name without a namespace is "
        "completed "
        f"with the client's own namespace ({scope.namespace}) first. The fully qualified name "
        "cannot be "
        "completed wrongly and costs no extra search-path queries.",
        verify=verify_lookup(scope, right or name.fqdn),
        rollback=f"kubectl -n {scope.namespace} rollout undo {ref[0]}/{ref[2]}" if ref else "",
        priority=model.Priority.NAME,
    )


def _right_service(ev: evidence_model.Evidence, scope: resolve.Scope, wanted: str) -> str | None:
    if scope.target_service is not None:
        return str(scope.target_host)
    same = [s for s in ev.kind("Service") if objects.name(s) == wanted]
    if len(same) == 1:
        return f"{wanted}.{objects.namespace(same[0])}.svc.{dns_names.CLUSTER_DOMAIN}"
    return None


def probe_failed(scope: resolve.Scope, probe: probes_file.ProbeResult) -> Problem:
    nx = probe.outcome == "nxdomain"
    server = probe.data.get("server") or "the default resolver"
    return Problem(
        kind="probe-" + probe.outcome,
        summary=f"{probe.target} does not resolve ({probe.outcome} from {server})",
        evidence=(
            model.Cite(
                text=f"probe dns {probe.target}: {probe.outcome} after {probe.elapsed_ms:.0f} ms"
                + (f" ({probe.detail})" if probe.detail else ""),
                source="probe dns",
            ),
        ),
        fix_summary="the name does not exist: use the Service's full name"
        if nx
        else "cluster DNS does not answer: check CoreDNS and port 53 egress",
        steps=(
            model.FixStep(
                description="See what the resolver and CoreDNS say:",
                language="shell",
                content=f"{exec_lookup(scope, probe.target)}\n"
                "kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50",
            ),
        ),
        why="NXDOMAIN means the name is wrong or its Service is missing; SERVFAIL or a timeout "
        "means "
        "CoreDNS or its upstream is failing, or port 53 is blocked.",
        verify=verify_lookup(scope, probe.target),
        priority=model.Priority.NAME,
        confidence=model.Confidence.MEDIUM,
    )


def client_only(scope: resolve.Scope, client: Sequence[clues.Clue]) -> Problem:
    temporary = any(c.meaning == "dns-temporary" for c in client)
    return Problem(
        kind="client-resolution-errors",
        summary=f"{scope.source} cannot resolve its database host"
        + (" (temporary failure: DNS unreachable or failing)" if temporary else ""),
        evidence=tuple(client_cites(client)),
        fix_summary="find which lookup fails from inside the client, then fix CoreDNS or the name",
        steps=(
            model.FixStep(
                description="Resolve the name from the client and read CoreDNS:",
                language="shell",
                content=f"{exec_lookup(scope, scope.target_host)}\n"
                "kubectl -n kube-system get pods,endpointslices -l k8s-app=kube-dns\n"
                "kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50",
            ),
        ),
        why="The client's own errors show name resolution failing; the objects in the evidence do "
        "not "
        "show why, so the lookup from inside the pod decides between a wrong name and broken DNS.",
        verify=verify_lookup(scope, scope.target_host),
        priority=model.Priority.EXTERNAL,
        confidence=model.Confidence.MEDIUM,
    )
