"""Detectors of `firewall`: the path to an outside target (`observe`: destination, client TCP
errors about it, tcp probes, what network-policy found), then the first detector that decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic.checks import clues, model, signatures, vantage
from paramedic.checks.firewall import fixes
from paramedic.evidence import logscan
from paramedic.evidence import model as evidence_model
from paramedic.kube import names, objects, resolve, services
from paramedic.netpol import scope as netpol_scope

_TCP = ("tcp-timeout", "tcp-refused", "no-route", "conn-reset")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """The path to an outside target as the evidence shows it, before any verdict."""

    addresses: list[str]
    port: int | None
    dest: str
    cites: tuple[model.Cite, ...]
    kinds: dict[str, int]
    """How many client lines of each TCP failure meaning."""
    outcomes: set[str]
    """Outcomes of recorded tcp probes to the target."""
    probed: bool
    netpol: model.Finding | None
    contrast: vantage.Contrast | None = None
    """The pod-versus-node contrast of --probe-pod, when recorded."""

    @property
    def allowed(self) -> bool:
        """The cluster's NetworkPolicies allow the flow."""
        return self.netpol is not None and self.netpol.verdict is model.Verdict.RULED_OUT


def observe(ctx: model.Context) -> Observed:
    scope, ev = ctx.scope, ctx.evidence
    addresses, port, cites = _destination(ev, scope)
    idents = {a.lower() for a in addresses} | {scope.target_host.lower()}
    if scope.target_service is not None:  # clients usually dial the Service's name or ClusterIP
        spec = objects.spec(scope.target_service)
        idents |= {str(ip).lower() for ip in objects.as_list(spec.get("clusterIPs"))}
        idents |= {str(spec.get(k)).lower() for k in ("clusterIP", "externalName") if spec.get(k)}
    found = [
        c
        for c in clues.log_clues(ev, scope.source_pods)
        if c.meaning in _TCP and _about_target(c.line, idents)
    ]
    kinds = {m: clues.count(found, (m,)) for m in _TCP}
    for meaning, n in kinds.items():
        if n:
            first = next(c for c in found if c.meaning == meaning)
            cites.append(first.cite(f"{n}× {meaning}: "))
            cites.append(model.Cite(text=f"{meaning} means: {signatures.describe(meaning)}"))
    probes = [
        p for p in ev.probes_of("tcp") if _probes_target(p.target, addresses, scope.target_host)
    ]
    cites += [
        model.Cite(
            text=f"probe tcp {p.target}: {p.outcome} after {p.elapsed_ms:.0f} ms",
            source=f"probe tcp ({p.source})",
        )
        for p in probes
    ]
    netpol = ctx.earlier.get("network-policy")
    cites.append(model.Cite(text=_policy_note(netpol), source="check network-policy"))
    contrast = vantage.read(ev)
    if contrast is not None:
        cites += [model.Cite(text=contrast.summary), *contrast.cites]
    return Observed(
        addresses=addresses,
        port=port,
        dest=", ".join(addresses) or scope.target_host,
        cites=tuple(cites),
        kinds=kinds,
        outcomes={p.outcome for p in probes},
        probed=bool(probes) or contrast is not None,
        netpol=netpol,
        contrast=contrast,
    )


def open_port(seen: Observed) -> model.Finding | None:
    if "open" not in seen.outcomes:
        return None
    return _ruled_out(
        seen.cites,
        f"{seen.dest}:{seen.port} accepts TCP connections (probe open)",
        model.Confidence.HIGH,
    )


def node_connects(seen: Observed) -> model.Finding | None:
    """The client's node itself (a hostNetwork probe pod) connects: nothing outside drops it."""
    c = seen.contrast
    if c is None or c.node_connects is not True:
        return None
    layer = " (the pod's failure is a policy layer)" if c.layer is vantage.Layer.POLICY else ""
    return _ruled_out(
        seen.cites,
        f"the client node {c.node} itself connects to {seen.dest}:{seen.port} (a hostNetwork "
        f"probe pod): no firewall outside the cluster drops the flow{layer}",
        model.Confidence.HIGH,
    )


def policy_first(scope: resolve.Scope, seen: Observed) -> model.Finding | None:
    """A NetworkPolicy already blocks the flow: nothing outside can be judged yet."""
    if seen.netpol is None or seen.netpol.verdict is not model.Verdict.CAUSE:
        return None
    return model.Finding(
        verdict=model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.LOW,
        summary="a NetworkPolicy already blocks this flow; a firewall outside cannot be judged "
        "until it is fixed",
        evidence=seen.cites,
        missing="after the NetworkPolicy fix, test again: "
        + connect_test(scope, seen.dest, seen.port),
    )


def dropped(ctx: model.Context, seen: Observed) -> model.Finding | None:
    """Connections time out (dropped) or get no-route: a firewall on the path."""
    infra = seen.contrast is not None and seen.contrast.layer is vantage.Layer.INFRASTRUCTURE
    timeouts = (
        "timeout" in seen.outcomes
        or (infra and "timeout" in {p.outcome for p in ctx.evidence.probes_of("tcp")})
        or (not seen.probed and seen.kinds["tcp-timeout"] > 0)
    )
    no_route = "unreachable" in seen.outcomes or (not seen.probed and seen.kinds["no-route"] > 0)
    if not (timeouts or no_route):
        return None
    scope, allowed, dest, port = ctx.scope, seen.allowed, seen.dest, seen.port
    how = (
        "time out (packets dropped)"
        if timeouts
        else "get no-route (ICMP unreachable / admin-prohibited)"
    )
    return model.Finding(
        verdict=model.Verdict.CAUSE,
        confidence=model.Confidence.HIGH if allowed or infra else model.Confidence.MEDIUM,
        summary=f"connections to {dest}:{port} outside the cluster {how}; {_why_outside(seen)}",
        evidence=seen.cites,
        fix=fixes.request(ctx.evidence, scope, seen.addresses, port),
        why="A timeout means the SYN got no answer at all: something on the path discards it. "
        + (
            "The node itself, where no NetworkPolicy applies, gets no answer either, so the drop "
            "is outside"
            if infra
            else "Inside the cluster nothing blocks the flow, so the drop is outside"
            if allowed
            else "Unless a NetworkPolicy drops it (not excluded here), the drop is outside"
        )
        + ": a cloud security group or firewall in front of the database, or the database "
        "host's own firewall. Those are stateful, so one inbound rule for the nodes' "
        "addresses lets the replies back.",
        verify=f"{connect_test(scope, dest, port)}  # expect 'open', and no new connect timeouts"
        " in the client logs",
        priority=model.Priority.EXTERNAL,
        details={"destination": seen.addresses, "port": port, "kinds": seen.kinds},
    )


def answered(ctx: model.Context, seen: Observed) -> model.Finding:
    """Refused (a host answers), nothing to judge by, or no timeouts in the client logs."""
    dest, port = seen.dest, seen.port
    if seen.kinds["tcp-refused"] or "refused" in seen.outcomes:
        return _ruled_out(
            seen.cites,
            f"{dest}:{port} refuses connections: a host answers, so no firewall drops "
            "them; check that PostgreSQL listens there",
            model.Confidence.MEDIUM,
        )
    if not seen.probed and not clues.has_logs(ctx.evidence, ctx.scope.source_pods):
        return model.Finding(
            verdict=model.Verdict.INCONCLUSIVE,
            confidence=model.Confidence.LOW,
            summary=f"no client log and no tcp probe to tell whether {dest}:{port} is reachable",
            evidence=seen.cites,
            missing=f"a connect test from the cluster: {connect_test(ctx.scope, dest, port)}",
        )
    return _ruled_out(
        seen.cites, f"no connect timeouts to {dest}:{port} in the client logs", model.Confidence.LOW
    )


def _why_outside(seen: Observed) -> str:
    """Why the drop is outside: the node's own probe fails too, or what the policies say."""
    c = seen.contrast
    if c is not None and c.layer is vantage.Layer.INFRASTRUCTURE:
        return (
            f"the client node {c.node} itself (a hostNetwork probe pod) fails too, so no "
            "NetworkPolicy is involved: a firewall outside drops them, or the database is down"
        )
    if seen.allowed:
        return "the cluster's policies allow them, so a firewall outside drops them"
    if seen.netpol is None:
        return "the cluster's policies were not evaluated"
    return (
        "the cluster's policies could not be evaluated, so a dropping NetworkPolicy is not excluded"
    )


def _policy_note(netpol: model.Finding | None) -> str:
    if netpol is None:
        return "NetworkPolicies were not evaluated, so a dropping policy is not excluded"
    if netpol.verdict is model.Verdict.RULED_OUT:
        return "NetworkPolicies allow this flow (network-policy ruled out)"
    return f"network-policy says {netpol.verdict}: {netpol.summary}"


_IPV4 = logscan.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def _about_target(line: str, idents: set[str]) -> bool:
    """A client line counts unless it names another address (it is about another server)."""
    lowered = line.lower()
    if any(ident and ident in lowered for ident in idents):
        return True
    return not _IPV4.search(line) and 'server at "' not in lowered


def _ruled_out(
    cites: tuple[model.Cite, ...], summary: str, confidence: model.Confidence
) -> model.Finding:
    return model.Finding(
        verdict=model.Verdict.RULED_OUT, confidence=confidence, summary=summary, evidence=cites
    )


def _destination(
    ev: evidence_model.Evidence, scope: resolve.Scope
) -> tuple[list[str], int | None, list[model.Cite]]:
    """(destination IPs, destination port, evidence) of an outside target."""
    service = scope.target_service
    if service is None:
        return (
            ([scope.target_host] if names.is_ip(scope.target_host) else []),
            scope.port,
            [
                model.Cite(
                    text=f"target {scope.target_host}:{scope.port} is given as a host outside the "
                    "cluster"
                )
            ],
        )
    spec = objects.spec(service)
    if spec.get("type") == "ExternalName":
        name = str(spec.get("externalName", ""))
        return (
            netpol_scope.resolved(ev, name),
            scope.port,
            [model.Cite(text=f"ExternalName → {name}", source=objects.ref(service))],
        )
    ns = objects.namespace(service)
    ready, not_ready = services.endpoint_addresses(
        service, ev.kind("Endpoints", ns), ev.kind("EndpointSlice", ns)
    )
    port = _endpoint_port(ev, service, scope.port_name) or scope.port
    return (
        ready + not_ready,
        port,
        [
            model.Cite(
                text="Service without selector; endpoints set by hand: "
                f"{', '.join(ready + not_ready) or 'none'}"
                f" port {port}",
                source=objects.ref(service),
            )
        ],
    )


def _endpoint_port(
    ev: evidence_model.Evidence, service: Mapping[str, Any], name: str | None
) -> int | None:
    ns, svc = objects.namespace(service), objects.name(service)
    for s in ev.kind("EndpointSlice", ns):
        if objects.labels(s).get("kubernetes.io/service-name") == svc:
            for p in objects.as_list(s.get("ports")):
                if isinstance(p, dict) and (name is None or p.get("name") in (name, None)):
                    return int(p["port"]) if isinstance(p.get("port"), int) else None
    return None


def _probes_target(target: str, addresses: list[str], host: str) -> bool:
    head = target.rsplit(":", 1)[0].strip("[]")
    return head in addresses or head == host


def connect_test(scope: resolve.Scope, dest: str, port: int | None) -> str:
    first = dest.split(",")[0]
    return (
        f"kubectl -n {scope.namespace} run nettest --rm -i --restart=Never --image=busybox:1.36 -- "
        f"nc -vz -w 5 {first} {port}"
    )
