"""What the clients' own logs say about the path between nodes (checks.firewall.nodes): the
pattern "clients on the database's node connect, the others time out", and, without node rules
to read, whether the clients on other nodes logged no connect timeout at all (the path carries
their traffic) or a NetworkPolicy already blocks the flow (the node path cannot be judged yet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.firewall import placement
from paramedic.kube import objects


def waiting(
    ctx: model.Context, remote: Sequence[placement.Node], cites: list[model.Cite], test: str
) -> model.Finding | None:
    """Without node rules to read: a NetworkPolicy that already blocks the flow comes first, and
    clients on other nodes whose logs show no connect timeout rule the node path out."""
    netpol = ctx.earlier.get("network-policy")
    if netpol is not None and netpol.verdict is model.Verdict.CAUSE:
        return model.Finding(
            verdict=model.Verdict.INCONCLUSIVE,
            confidence=model.Confidence.LOW,
            summary="a NetworkPolicy already blocks this flow; the path between the nodes cannot "
            "be judged until it is fixed",
            evidence=tuple(cites),
            missing=f"after the NetworkPolicy fix, test from a client on another node: {test}",
        )
    pods = {f"{objects.namespace(p)}/{objects.name(p)}": p for p in ctx.scope.source_pods}
    remote_pods = [pods[k] for n in remote for k in n.pods if k in pods]
    logged = [p for p in remote_pods if has_logs(ctx, p)]
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


def has_logs(ctx: model.Context, pod: Mapping[str, Any]) -> bool:
    """Whether the pod logged anything (a container that never started has an empty log)."""
    logs = ctx.evidence.pod_logs(objects.namespace(pod), objects.name(pod))
    return any(lines for lines in logs.values())


def pattern(
    ctx: model.Context, clients: Sequence[placement.Node], db_names: set[str]
) -> list[model.Cite]:
    """'clients on the DB's node connect, the others time out', when the logs show exactly it."""
    pods = {f"{objects.namespace(p)}/{objects.name(p)}": p for p in ctx.scope.source_pods}
    timed_out: dict[bool, int] = {True: 0, False: 0}
    counted: dict[bool, int] = {True: 0, False: 0}
    for node in clients:
        local = node.name in db_names
        for key in node.pods:
            pod = pods.get(key)
            if pod is None or not has_logs(ctx, pod):
                continue
            counted[local] += 1
            found = clues.log_clues(ctx.evidence, [pod])
            timed_out[local] += clues.count(found, ("tcp-timeout",)) > 0
    only_remote = not timed_out[True] and timed_out[False] == counted[False]
    if counted[True] and counted[False] and only_remote:
        return [
            model.Cite(
                text=f"the {counted[True]} client pod(s) on the database's node log no timeout; "
                f"all {counted[False]} on other nodes time out"
            )
        ]
    return []
