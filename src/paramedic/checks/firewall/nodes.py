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

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model, vantage
from paramedic.checks.firewall import fixes, placement
from paramedic.cloud import model as cloud_model
from paramedic.cloud import path
from paramedic.kube import datapath, objects, resolve

READ_CNI = (
    "kubectl -n kube-system get daemonsets,configmaps -o yaml  # the CNI's DaemonSet env and its "
    "ConfigMap say which data path carries pod traffic between nodes"
)


def between(ctx: model.Context) -> model.Finding:
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
    pattern = _pattern(ctx, clients, db_names)
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
    found = datapath.detect(ev.objects)
    if found is None and strong:
        return model.Finding(
            verdict=model.Verdict.CAUSE,
            confidence=model.Confidence.MEDIUM,
            summary=f"{probed.summary if probed else ''}; which protocol the nodes must let "
            "through depends on the CNI's data path, not in the evidence",
            evidence=tuple(cites),
            why="The same probe connects from the database's node and fails from another: only "
            "traffic that crosses between the nodes is dropped.",
            verify=f"read the data path and the node rules: {READ_CNI}; "
            + placement.how_to_read(ev),
            missing=READ_CNI,
            priority=model.Priority.PATH,
        )
    if found is None:
        waiting = _waiting(ctx, remote, cites)
        if waiting is not None:
            return waiting
        return _inconclusive(
            "the CNI's data path between nodes is not in the evidence, so the node rules cannot "
            "be checked",
            cites,
            READ_CNI,
            model.Confidence.LOW,
        )
    cites += [
        model.Cite(text=f"{found.cni} data path: {text}", source=src) for text, src in found.cites
    ]
    port = _pod_port(scope)
    answers = [
        a
        for need in found.needs
        for flow in _flows(need, remote, db_nodes[0], port)
        if (a := path.evaluate(ev.cloud, flow)) is not None
    ]
    needs_text = ", ".join(_need_text(n, port) for n in found.needs)
    if not answers:
        waiting = _waiting(ctx, remote, cites)
        if waiting is not None:
            return waiting
        summary = (
            f"clients on other nodes time out while those on the database's node connect: the "
            f"nodes' firewall likely lacks {needs_text} ({found.mode})"
        )
        if pattern:
            return model.Finding(
                verdict=model.Verdict.CAUSE,
                confidence=model.Confidence.HIGH if strong else model.Confidence.MEDIUM,
                summary=summary,
                evidence=tuple(cites),
                why="Pods on other nodes reach the database through the node network; only they "
                "fail, so something between the nodes drops what the data path sends.",
                verify=f"read the node rules to confirm: {placement.how_to_read(ev)}",
                missing=placement.how_to_read(ev),
                priority=model.Priority.PATH,
            )
        return _inconclusive(
            f"the node rules between the nodes are not in the evidence; {found.cni} needs "
            f"{needs_text} between them",
            cites,
            placement.how_to_read(ev),
            model.Confidence.LOW,
        )
    cites += fixes.cites(answers)
    denied = [a for a in answers if a.decision is cloud_model.Decision.DENY]
    if denied:
        first = denied[0].deciding
        assert first is not None
        test = _test(ctx, remote)
        return model.Finding(
            verdict=model.Verdict.CAUSE,
            confidence=model.Confidence.HIGH,
            summary=f"the {denied[0].provider} rules between the nodes drop "
            f"{_flow_text(denied[0].flow)} ({found.cni} {found.mode}) from "
            f"{', '.join(sorted({n.name for n in remote}))} to {db_nodes[0].name}, the "
            f"database's node: {first.layer} — {first.rule or first.reason}",
            evidence=tuple(cites),
            remedy=fixes.remedy(
                denied,
                label=f"{found.cni}-between-nodes",
                test=test,
                what=f"{_flow_text(denied[0].flow)} between the nodes",
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
        summary=f"the node rules let {', '.join(n.name for n in remote)} reach the database's "
        f"node on {needs_text} ({found.cni} {found.mode})",
        evidence=tuple(cites),
    )


def _waiting(
    ctx: model.Context, remote: Sequence[placement.Node], cites: list[model.Cite]
) -> model.Finding | None:
    """Without node rules to read: a NetworkPolicy that already blocks the flow comes first, and
    clients on other nodes whose logs show no connect timeout rule the node path out."""
    netpol = ctx.earlier.get("network-policy")
    if netpol is not None and netpol.verdict is model.Verdict.CAUSE:
        return _inconclusive(
            "a NetworkPolicy already blocks this flow; the path between the nodes cannot be "
            "judged until it is fixed",
            cites,
            "after the NetworkPolicy fix, test from a client on another node: "
            + _test(ctx, remote),
            model.Confidence.LOW,
        )
    pods = {f"{objects.namespace(p)}/{objects.name(p)}": p for p in ctx.scope.source_pods}
    remote_pods = [pods[k] for n in remote for k in n.pods if k in pods]
    logged = [p for p in remote_pods if _logged(ctx, p)]
    if not logged or len(logged) < len(remote_pods):
        return None
    if clues.count(clues.log_clues(ctx.evidence, logged), ("tcp-timeout",)):
        return None
    return model.Finding(
        verdict=model.Verdict.RULED_OUT,
        confidence=model.Confidence.LOW,
        summary=f"the {len(logged)} client pod(s) on other nodes than the database's log no "
        "connect timeout, so the path between the nodes carries their traffic",
        evidence=tuple(cites),
    )


def _logged(ctx: model.Context, pod: Mapping[str, Any]) -> bool:
    """Whether the pod logged anything (a container that never started has an empty log)."""
    logs = ctx.evidence.pod_logs(objects.namespace(pod), objects.name(pod))
    return any(lines for lines in logs.values())


def _pattern(
    ctx: model.Context, clients: Sequence[placement.Node], db_names: set[str]
) -> list[model.Cite]:
    """'clients on the DB's node connect, the others time out', when the logs show exactly it."""
    pods = {f"{objects.namespace(p)}/{objects.name(p)}": p for p in ctx.scope.source_pods}
    timed_out: dict[bool, int] = {True: 0, False: 0}
    logged: dict[bool, int] = {True: 0, False: 0}
    for node in clients:
        local = node.name in db_names
        for key in node.pods:
            pod = pods.get(key)
            if pod is None or not _logged(ctx, pod):
                continue
            logged[local] += 1
            found = clues.log_clues(ctx.evidence, [pod])
            timed_out[local] += clues.count(found, ("tcp-timeout",)) > 0
    if logged[True] and logged[False] and not timed_out[True] and timed_out[False] == logged[False]:
        return [
            model.Cite(
                text=f"the {logged[True]} client pod(s) on the database's node log no timeout; "
                f"all {logged[False]} on other nodes time out"
            )
        ]
    return []


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
