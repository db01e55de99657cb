"""Detector of `firewall` for a target inside the cluster: may the nodes of the clients reach the
node of the database on what the CNI's data path needs?

Pods on other nodes reach the database through the node network: an overlay's UDP (VXLAN,
Geneve), IP-in-IP, BGP between the nodes, WireGuard, or with native routing the pod port itself
(`kube.datapath` reads which from the CNI's objects). A node security group or firewall that
lacks it breaks exactly the clients that run elsewhere, so the evidence has a pattern too:
clients on the database's node connect while the others time out. The probes of `--probe-pod`
show it directly (checks.vantage): a labelled pod on the database's node connects while the one
on a client's node fails; and a client node that itself (hostNetwork) reaches the database rules
the path out. The cloud's rules decide when the evidence holds them; the pattern alone makes it
a likely cause; nothing to read is *inconclusive* with the command that shows it, never *ruled
out*.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import model, vantage
from paramedic.checks.firewall import fixes, node_logs, placement
from paramedic.cloud import model as cloud_model
from paramedic.cloud import path
from paramedic.evidence import model as evidence_model
from paramedic.evidence import needs
from paramedic.kube import datapath, objects, resolve

READ_CNI = (
    "kubectl -n kube-system get daemonsets,configmaps -o yaml  # the CNI's DaemonSet env and its "
    "ConfigMap say which data path carries pod traffic between nodes"
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Path:
    """Where the clients and the database run, and what the evidence shows so far."""

    db_nodes: Sequence[placement.Node]
    remote: Sequence[placement.Node]
    """Client nodes other than the database's: their traffic crosses between nodes."""
    cites: list[model.Cite]
    pattern: list[model.Cite]
    """'clients on the database's node connect, the others time out', when shown."""
    strong: bool
    """A --probe-pod contrast put the failure between the nodes."""

    @property
    def remote_names(self) -> str:
        return ", ".join(sorted({n.name for n in self.remote}))


def between(ctx: model.Context) -> model.Finding:
    ev = ctx.evidence
    found_path = _path(ctx)
    if isinstance(found_path, model.Finding):
        return found_path
    p = found_path
    found = datapath.detect(cni_objects(ev))
    if found is None:
        return _no_datapath(ctx, p)
    p.cites.extend(
        model.Cite(text=f"{found.cni} data path: {text}", source=src) for text, src in found.cites
    )
    port = _pod_port(ctx.scope)
    answers = [
        a
        for need in found.needs
        for flow in _flows(need, p.remote, p.db_nodes[0], port)
        if (a := path.evaluate(ev.cloud, flow)) is not None
    ]
    needs_text = ", ".join(_need_text(n, port) for n in found.needs)
    if not answers:
        return _rules_unread(ctx, p, found, needs_text)
    return _decided(ctx, p, found, answers, needs_text)


def cni_objects(ev: evidence_model.Evidence) -> list[Mapping[str, Any]]:
    """What says the CNI's data path, read where the check's needs fetch it: DaemonSets and
    ConfigMaps of the CNI namespaces, Calico's pools and configuration cluster-wide."""
    return [
        *(
            o
            for ns in needs.CNI_NAMESPACES
            for k in ("DaemonSet", "ConfigMap")
            for o in ev.kind(k, ns)
        ),
        *(o for k in (*datapath.CALICO_KINDS, *datapath.OPERATOR_KINDS) for o in ev.kind(k)),
    ]


def _path(ctx: model.Context) -> _Path | model.Finding:
    """Placement and the --probe-pod contrast: a finding when they settle it (no placement, no
    client on another node, a client node that itself reaches the database)."""
    ev, scope = ctx.evidence, ctx.scope
    db_nodes = placement.nodes_of(ev, scope.target_pods)
    clients = placement.nodes_of(ev, scope.source_pods)
    if not db_nodes or not clients:
        return _inconclusive(
            "where the clients and the database run is not in the evidence (no pod with a node)",
            (),
            f"kubectl get pods -o wide -n {scope.namespace}",
            model.Confidence.LOW,
        )
    db_names = {n.name for n in db_nodes}
    remote = [n for n in clients if n.name not in db_names]
    cites = [
        model.Cite(
            text=f"database pods on {', '.join(n.name for n in db_nodes)}; clients on "
            + ", ".join(f"{n.name} ({len(n.pods)})" for n in clients)
        )
    ]
    if not remote:
        return model.Finding(
            verdict=model.Verdict.RULED_OUT,
            confidence=model.Confidence.HIGH,
            summary="every client runs on the database's node: no traffic crosses between nodes",
            evidence=tuple(cites),
        )
    pattern = node_logs.pattern(ctx, clients, db_names)
    cites += pattern
    probed = vantage.read(ev, db_names)
    if probed is not None:
        cites += [model.Cite(text=probed.summary), *probed.cites]
        if probed.node_connects and probed.node not in db_names:
            return model.Finding(
                verdict=model.Verdict.RULED_OUT,
                confidence=model.Confidence.HIGH,
                summary=f"the client node {probed.node} itself reaches the database on "
                f"{', '.join(sorted(db_names))} (a hostNetwork probe pod): the path between the "
                "nodes carries the traffic",
                evidence=tuple(cites),
            )
        if probed.layer is vantage.Layer.BETWEEN_NODES:
            pattern = [*pattern, model.Cite(text=probed.summary)]
    strong = probed is not None and probed.layer is vantage.Layer.BETWEEN_NODES
    return _Path(db_nodes=db_nodes, remote=remote, cites=cites, pattern=pattern, strong=strong)


def _no_datapath(ctx: model.Context, p: _Path) -> model.Finding:
    """The CNI's data path is not in the evidence: which node rules matter is unknown."""
    if p.strong:
        return model.Finding(
            verdict=model.Verdict.CAUSE,
            confidence=model.Confidence.MEDIUM,
            summary=f"{p.pattern[-1].text}; which protocol the nodes must let through depends "
            "on the CNI's data path, not in the evidence",
            evidence=tuple(p.cites),
            why="The same probe connects from the database's node and fails from another: only "
            "traffic that crosses between the nodes is dropped.",
            verify=f"read the data path and the node rules: {READ_CNI}; "
            + placement.how_to_read(ctx.evidence),
            missing=READ_CNI,
            priority=model.Priority.PATH,
        )
    waiting = node_logs.waiting(ctx, p.remote, p.cites, _test(ctx, p.remote))
    if waiting is not None:
        return waiting
    return _inconclusive(
        "the CNI's data path between nodes is not in the evidence, so the node rules cannot "
        "be checked",
        p.cites,
        READ_CNI,
        model.Confidence.LOW,
    )


def _rules_unread(
    ctx: model.Context, p: _Path, found: datapath.DataPath, needs_text: str
) -> model.Finding:
    """The data path is known but the node rules are not in the evidence."""
    waiting = node_logs.waiting(ctx, p.remote, p.cites, _test(ctx, p.remote))
    if waiting is not None:
        return waiting
    how_to_read = placement.how_to_read(ctx.evidence)
    if p.pattern:
        return model.Finding(
            verdict=model.Verdict.CAUSE,
            confidence=model.Confidence.HIGH if p.strong else model.Confidence.MEDIUM,
            summary=f"clients on other nodes time out while those on the database's node "
            f"connect: the nodes' firewall likely lacks {needs_text} ({found.mode})",
            evidence=tuple(p.cites),
            why="Pods on other nodes reach the database through the node network; only they "
            "fail, so something between the nodes drops what the data path sends.",
            verify=f"read the node rules to confirm: {how_to_read}",
            missing=how_to_read,
            priority=model.Priority.PATH,
        )
    return _inconclusive(
        f"the node rules between the nodes are not in the evidence; {found.cni} needs "
        f"{needs_text} between them",
        p.cites,
        how_to_read,
        model.Confidence.LOW,
    )


def _decided(
    ctx: model.Context,
    p: _Path,
    found: datapath.DataPath,
    answers: Sequence[cloud_model.Answer],
    needs_text: str,
) -> model.Finding:
    """The node rules in the evidence decide: a Deny is the cause (with the rule to add)."""
    cites = [*p.cites, *fixes.cites(answers)]
    denied = [a for a in answers if a.decision is cloud_model.Decision.DENY]
    if denied:
        first = denied[0].deciding
        assert first is not None
        what = _flow_text(denied[0].flow)
        return model.Finding(
            verdict=model.Verdict.CAUSE,
            confidence=model.Confidence.HIGH,
            summary=f"the {denied[0].provider} rules between the nodes drop {what} "
            f"({found.cni} {found.mode}) from {p.remote_names} to {p.db_nodes[0].name}, the "
            f"database's node: {first.layer} — {first.rule or first.reason}",
            evidence=tuple(cites),
            remedy=fixes.remedy(
                denied,
                label=f"{found.cni}-between-nodes",
                test=_test(ctx, p.remote),
                what=f"{what} between the nodes",
            ),
            priority=model.Priority.PATH,
            details={"datapath": found.mode, "cloud": [a.as_dict() for a in answers]},
        )
    unknown = [a.deciding for a in answers if a.decision is cloud_model.Decision.UNKNOWN]
    if unknown and unknown[0] is not None:
        return _inconclusive(
            f"the node rules for {needs_text} could not all be evaluated",
            cites,
            unknown[0].reason,
            model.Confidence.LOW,
        )
    return model.Finding(
        verdict=model.Verdict.RULED_OUT,
        confidence=model.Confidence.HIGH,
        summary=f"the node rules let {', '.join(n.name for n in p.remote)} reach the database's "
        f"node on {needs_text} ({found.cni} {found.mode})",
        evidence=tuple(cites),
    )


def _flows(
    need: datapath.Need, remote: Sequence[placement.Node], db: placement.Node, pod_port: int | None
) -> list[cloud_model.Flow]:
    port = need.port if need.port is not None or need.protocol != datapath.TCP else pod_port
    out = []
    for node in remote:
        out.append(
            cloud_model.Flow(src=node.address, dst=db.address, port=port, protocol=need.protocol)
        )
        if need.both_ways:
            out.append(
                cloud_model.Flow(
                    src=db.address, dst=node.address, port=port, protocol=need.protocol
                )
            )
    return out


def _pod_port(scope: resolve.Scope) -> int | None:
    """The database pod's port (the Service's targetPort when it is a number)."""
    service: Mapping[str, Any] | None = scope.target_service
    for p in objects.as_list(objects.spec(service).get("ports") if service else None):
        if (
            isinstance(p, dict)
            and p.get("port") == scope.port
            and isinstance(p.get("targetPort"), int)
        ):
            return int(p["targetPort"])
    return scope.port


def _need_text(need: datapath.Need, pod_port: int | None) -> str:
    if need.protocol == datapath.IPIP:
        return "IP protocol 4"
    port = need.port if need.port is not None else pod_port
    return f"{cloud_model.protocol_name(need.protocol).upper()} {port}"


def _flow_text(flow: cloud_model.Flow) -> str:
    if not cloud_model.has_ports(flow.protocol):
        return cloud_model.protocol_name(flow.protocol).upper() + f" (IP protocol {flow.protocol})"
    return f"{cloud_model.protocol_name(flow.protocol).upper()} {flow.port}"


def _test(ctx: model.Context, remote: Sequence[placement.Node]) -> str:
    """A connect test from a client pod on another node than the database's."""
    namespace, pod = remote[0].pods[0].split("/", 1)
    scope = ctx.scope
    return f"kubectl -n {namespace} exec {pod} -- nc -vz -w 5 {scope.target_host} {scope.port}"


def _inconclusive(
    summary: str, cites: Sequence[model.Cite], missing: str, confidence: model.Confidence
) -> model.Finding:
    return model.Finding(
        verdict=model.Verdict.INCONCLUSIVE,
        confidence=confidence,
        summary=summary,
        evidence=tuple(cites),
        missing=missing,
    )
