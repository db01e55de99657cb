"""Detectors of `service-endpoints`: a DST outside the cluster or an ExternalName, a selector-less
Service, then the Service's selected pods and endpoints (`observe`) and the first problem found:
no pod selected, a wrong targetPort, no pod ready, stale endpoints; else healthy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic.checks import model
from paramedic.checks.service_endpoints import fixes, not_ready
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, resolve, selectors, services


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """The target Service, its selected pods and its endpoints, before any verdict."""

    svc: Mapping[str, Any]
    port: Mapping[str, Any]
    live: list[Mapping[str, Any]]
    ready: list[Mapping[str, Any]]
    ready_ips: list[str]
    have_endpoint_objects: bool
    evidence: tuple[model.Cite, ...]
    verify: str


def outside(scope: resolve.Scope) -> model.Finding:
    """A DST outside the cluster: no Service endpoints are involved."""
    return _finding(
        model.Verdict.RULED_OUT,
        model.Confidence.HIGH,
        f"{scope.target} is outside the cluster: no Service endpoints are involved (the "
        "firewall check covers the path to it)",
    )


def external_name(svc: Mapping[str, Any]) -> model.Finding | None:
    """An ExternalName Service is a DNS alias: it has no endpoints."""
    spec = objects.spec(svc)
    if spec.get("type") != "ExternalName":
        return None
    return _finding(
        model.Verdict.RULED_OUT,
        model.Confidence.HIGH,
        f"{objects.ref(svc)} is an ExternalName alias for {spec.get('externalName')}: it has "
        "no endpoints; the firewall and dns checks cover the outside host",
    )


def selectorless(ev: evidence_model.Evidence, svc: Mapping[str, Any]) -> model.Finding | None:
    """A Service without selector: its endpoints are maintained by hand."""
    if objects.as_dict(objects.spec(svc).get("selector")):
        return None
    endpoints, slices = _endpoint_objects(ev, svc)
    ready_ips, _ = services.endpoint_addresses(svc, endpoints, slices)
    have_objects = services.has_endpoint_objects(svc, endpoints, slices)
    return _selectorless(svc, ready_ips, have_objects, fixes.verify_command(svc))


def observe(ctx: model.Context, svc: Mapping[str, Any]) -> Observed:
    ev, scope = ctx.evidence, ctx.scope
    spec = objects.spec(svc)
    ns, name = objects.namespace(svc), objects.name(svc)
    endpoints, slices = _endpoint_objects(ev, svc)
    ready_ips, not_ready_ips = services.endpoint_addresses(svc, endpoints, slices)
    have_endpoint_objects = services.has_endpoint_objects(svc, endpoints, slices)
    live = [p for p in scope.target_pods if pods.phase(p) not in ("Failed", "Succeeded")]
    ready = [p for p in live if pods.is_ready(p)]
    evidence: list[model.Cite] = [
        model.Cite(
            text=f"selector {selectors.describe({'matchLabels': spec['selector']})}: "
            f"{len(live)} pod(s), {len(ready)} ready",
            source=objects.ref(svc),
        ),
    ]
    if have_endpoint_objects:
        evidence.append(
            model.Cite(
                text=f"endpoints: {len(ready_ips)} ready ({', '.join(ready_ips) or 'none'}), "
                f"{len(not_ready_ips)} not ready",
                source=f"EndpointSlice {ns}/{name}" if slices else f"Endpoints {ns}/{name}",
            )
        )
    return Observed(
        svc=svc,
        port=services.find_port(svc, scope.port) or {},
        live=live,
        ready=ready,
        ready_ips=ready_ips,
        have_endpoint_objects=have_endpoint_objects,
        evidence=tuple(evidence),
        verify=fixes.verify_command(svc),
    )


def broken(
    ev: evidence_model.Evidence, seen: Observed, client_namespace: str
) -> model.Finding | None:
    """No pod selected, a targetPort the pods lack, or no selected pod ready."""
    svc, evidence, verify = seen.svc, list(seen.evidence), seen.verify
    if not seen.live:
        return _cause(
            fixes.selector_mismatch(ev, svc, client_namespace),
            evidence,
            verify,
            priority=model.Priority.PATH,
        )
    port_problem = fixes.port_mismatch(svc, seen.port, seen.live)
    if port_problem is not None:
        return _cause(port_problem, evidence, verify, priority=model.Priority.NAME)
    if seen.ready:
        return None
    reasons = not_ready.not_ready_reasons(ev, seen.live)
    return _finding(
        model.Verdict.CAUSE,
        model.Confidence.HIGH,
        f"{objects.ref(svc)} has no ready endpoint: {len(seen.live)} selected pod(s), none ready "
        f"({reasons.headline})",
        evidence=(*evidence, *reasons.evidence),
        fix=reasons.fix,
        why="Only ready pods become endpoints; with none, kube-proxy rejects connections to "
        "the ClusterIP, so clients see 'connection refused' (or time out on some CNIs).",
        verify=verify,
        priority=model.Priority.CAPACITY,
    )


def stale(seen: Observed) -> model.Finding | None:
    """Ready pods, but endpoint objects that list none of them."""
    if not (seen.have_endpoint_objects and not seen.ready_ips):
        return None
    return _finding(
        model.Verdict.INCONCLUSIVE,
        model.Confidence.LOW,
        f"{len(seen.ready)} pod(s) of {objects.ref(seen.svc)} are ready but its endpoints list "
        "none (the snapshot may be stale, or the endpoints controller is behind)",
        evidence=seen.evidence,
        missing=f"fresh endpoints: {seen.verify}",
    )


def healthy(seen: Observed) -> model.Finding:
    svc, port, ready = seen.svc, seen.port, seen.ready
    target = services.target_port(port) if port else None
    cite = (
        model.Cite(
            text=f"port {port.get('port')} -> targetPort {target} -> containerPort "
            f"{services.container_port(ready[0], target, port.get('protocol') or 'TCP')} on "
            f"{objects.name(ready[0])}",
            source=objects.ref(ready[0]),
        )
        if target is not None
        else model.Cite(text="port not resolved", source=objects.ref(svc))
    )
    return _finding(
        model.Verdict.RULED_OUT,
        model.Confidence.HIGH if seen.have_endpoint_objects else model.Confidence.MEDIUM,
        f"{objects.ref(svc)} selects {len(ready)} ready pod(s) and its port matches",
        evidence=(*seen.evidence, cite),
        missing="" if seen.have_endpoint_objects else f"the Service's endpoints: {seen.verify}",
    )


def _endpoint_objects(
    ev: evidence_model.Evidence, svc: Mapping[str, Any]
) -> tuple[tuple[Mapping[str, Any], ...], tuple[Mapping[str, Any], ...]]:
    ns = objects.namespace(svc)
    return tuple(ev.kind("Endpoints", ns)), tuple(ev.kind("EndpointSlice", ns))


def _selectorless(
    svc: Mapping[str, Any], ready_ips: list[str], have_objects: bool, verify: str
) -> model.Finding:
    if ready_ips:
        return _finding(
            model.Verdict.RULED_OUT,
            model.Confidence.MEDIUM,
            f"{objects.ref(svc)} has no selector (endpoints maintained by hand, usually a "
            f"database outside the cluster) and lists {', '.join(ready_ips)}; the firewall check "
            "covers that path",
            evidence=(
                model.Cite(
                    text=f"manual endpoints: {', '.join(ready_ips)}", source=objects.ref(svc)
                ),
            ),
        )
    if have_objects:
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.MEDIUM,
            f"{objects.ref(svc)} has no selector and its manual endpoints list no address: there "
            "is nothing to connect to",
            evidence=(
                model.Cite(text="selector-less Service, endpoints empty", source=objects.ref(svc)),
            ),
            fix=model.Fix(
                summary="Point the Service at the database: add its address to the Service's "
                "EndpointSlice, or give the Service a selector"
            ),
            why="A Service without selector forwards only to the addresses in its EndpointSlices.",
            verify=verify,
        )
    return _finding(
        model.Verdict.INCONCLUSIVE,
        model.Confidence.LOW,
        f"{objects.ref(svc)} has no selector and the evidence holds none of its endpoints",
        missing=f"the Service's manual endpoints: {verify}",
    )


def _cause(
    analysis: fixes.Analysis,
    evidence: list[model.Cite],
    verify: str,
    *,
    priority: model.Priority,
) -> model.Finding:
    return _finding(
        model.Verdict.CAUSE,
        analysis.confidence,
        analysis.summary,
        evidence=(*evidence, *analysis.evidence),
        fix=analysis.fix,
        why=analysis.why,
        verify=_expecting(verify, analysis.expect),
        priority=priority,
    )


def _expecting(command: str, ips: tuple[str, ...]) -> str:
    return f"{command}  # expect ENDPOINTS {','.join(ips)}" if ips else command


def _finding(
    verdict: model.Verdict, confidence: model.Confidence, summary: str, **kwargs: Any
) -> model.Finding:
    return model.Finding(
        verdict=verdict,
        confidence=confidence,
        summary=summary,
        **kwargs,
    )
