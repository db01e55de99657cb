"""Check `service-endpoints`: does the target Service select ready pods on the right port?

A Service whose selector matches no pod, whose pods are all unready, or whose targetPort names
a port the pods do not have, has no usable endpoint: kube-proxy rejects connections to its
ClusterIP ("connection refused"). Reads the Service, the pods of its namespace, Endpoints and
EndpointSlices, and the pods' Events. The closest-labels analysis and the fixes live in
`endpoint_fixes`; this module decides the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.checks import endpoint_fixes, model, registry
from paramedic.kube import objects, pods, selectors, services

_ID = "service-endpoints"


@registry.check(
    _ID,
    title="The Service selects ready pods on the right port",
    needs=("Service", "Pod", "Endpoints", "EndpointSlice", "Event"),
)
def run(ctx: model.Context) -> model.Finding:
    ev, scope = ctx.evidence, ctx.scope
    svc = scope.target_service
    if svc is None:
        return _finding(
            model.Verdict.RULED_OUT,
            model.Confidence.HIGH,
            f"{scope.target} is outside the cluster: no Service endpoints are involved (the "
            "firewall check covers the path to it)",
        )
    spec = objects.spec(svc)
    ns, name = objects.namespace(svc), objects.name(svc)
    endpoints, slices = ev.kind("Endpoints", ns), ev.kind("EndpointSlice", ns)
    ready_ips, not_ready_ips = services.endpoint_addresses(svc, endpoints, slices)
    have_endpoint_objects = services.has_endpoint_objects(svc, endpoints, slices)
    verify = endpoint_fixes.verify_command(svc)
    if spec.get("type") == "ExternalName":
        return _finding(
            model.Verdict.RULED_OUT,
            model.Confidence.HIGH,
            f"{objects.ref(svc)} is an ExternalName alias for {spec.get('externalName')}: it has "
            "no endpoints; the firewall and dns checks cover the outside host",
        )
    if not objects.as_dict(spec.get("selector")):
        return _selectorless(svc, ready_ips, have_endpoint_objects, verify)

    port = services.find_port(svc, scope.port) or {}
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

    if not live:
        return _cause(endpoint_fixes.selector_mismatch(ev, svc), evidence, verify, priority=20)
    port_problem = endpoint_fixes.port_mismatch(svc, port, live)
    if port_problem is not None:
        return _cause(port_problem, evidence, verify, priority=25)

    if not ready:
        reasons = endpoint_fixes.not_ready_reasons(ev, live)
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.HIGH,
            f"{objects.ref(svc)} has no ready endpoint: {len(live)} selected pod(s), none ready "
            f"({reasons.headline})",
            evidence=(*evidence, *reasons.evidence),
            fix=reasons.fix,
            why="Only ready pods become endpoints; with none, kube-proxy rejects connections to "
            "the ClusterIP, so clients see 'connection refused' (or time out on some CNIs).",
            verify=verify,
            priority=40,
        )

    if have_endpoint_objects and not ready_ips:
        return _finding(
            model.Verdict.INCONCLUSIVE,
            model.Confidence.LOW,
            f"{len(ready)} pod(s) of {objects.ref(svc)} are ready but its endpoints list none "
            "(the snapshot may be stale, or the endpoints controller is behind)",
            evidence=tuple(evidence),
            missing=f"fresh endpoints: {verify}",
        )
    target = services.target_port(port) if port else None
    evidence.append(
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
        model.Confidence.HIGH if have_endpoint_objects else model.Confidence.MEDIUM,
        f"{objects.ref(svc)} selects {len(ready)} ready pod(s) and its port matches",
        evidence=tuple(evidence),
        missing="" if have_endpoint_objects else f"the Service's endpoints: {verify}",
    )


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
    analysis: endpoint_fixes.Analysis, evidence: list[model.Cite], verify: str, *, priority: int
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
        check=_ID,
        title="Service endpoints",
        verdict=verdict,
        confidence=confidence,
        summary=summary,
        **kwargs,
    )
