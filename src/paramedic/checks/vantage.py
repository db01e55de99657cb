"""Where the probes ran: the pod-versus-node contrast of `--probe-pod` (docs/CHECKS.md).

`--probe-pod` records tcp probes with a `vantage` ('pod': a pod wearing the source's labels;
'node': a hostNetwork pod, the node's own network, which no NetworkPolicy selects) and the
`node` they ran on. Compared on one client node, and with a labelled pod on the database's node:

- the labelled pod fails, the node beside it connects: a **policy** layer drops the pod's traffic;
- both fail (and no pod on the database's node connects): **infrastructure** — the node network,
  a node or cloud firewall, or the database itself;
- the labelled pod on the database's node connects while the one on the client's node fails:
  the path **between nodes**;
- the labelled pod connects: nothing drops the flow from there (**open**).

Only probes present decide; without a node or database-node probe there is no contrast (None),
and the checks say what would tell (`--probe-pod`).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection, Sequence

from paramedic.checks import model
from paramedic.evidence import model as evidence_model
from paramedic.evidence import probes_file

RUN_PROBES = "paramedic diagnose ... --probe-pod"
"""What records the contrast (a live run; `capture ... --probe-pod` keeps it in a bundle)."""


class Layer(enum.StrEnum):
    POLICY = "policy"
    INFRASTRUCTURE = "infrastructure"
    BETWEEN_NODES = "between-nodes"
    OPEN = "open"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Contrast:
    layer: Layer
    node: str
    """The client node the labelled pod and the hostNetwork pod ran on."""
    summary: str
    cites: tuple[model.Cite, ...]
    node_connects: bool | None
    """Whether the client node itself (hostNetwork) connected; None when it was not probed."""


def read(ev: evidence_model.Evidence, db_nodes: Collection[str] = ()) -> Contrast | None:
    """The contrast the recorded tcp probes show, or None when they hold none."""
    placed = [p for p in ev.probes_of("tcp") if p.vantage and p.node]
    hosts = [p for p in placed if p.vantage == "node"]
    client = hosts[0].node if hosts else _client_node(placed, db_nodes)
    if not client:
        return None
    pod = [p for p in placed if p.vantage == "pod" and p.node == client]
    host = [p for p in hosts if p.node == client]
    remote = [p for p in placed if p.vantage == "pod" and p.node != client and p.node in db_nodes]
    if not pod or (not host and not remote):
        return None
    cites = tuple(_cite(p) for p in (*pod, *host, *remote))
    pod_fails, node_state = _fails(pod), _state(host)
    if _connects(pod):
        layer = Layer.OPEN
        summary = f"the probe pod with the source's labels on {client} connects"
    elif pod_fails and node_state is True:
        layer = Layer.POLICY
        summary = (
            f"the probe pod with the source's labels on {client} fails while {client} itself "
            "(a hostNetwork pod) connects: a policy layer drops the pod's traffic"
        )
    elif pod_fails and remote and _connects(remote):
        layer = Layer.BETWEEN_NODES
        summary = (
            f"a probe pod with the source's labels on the database's node {remote[0].node} "
            f"connects while the one on {client} fails: the path between the nodes drops it"
        )
    elif pod_fails and node_state is False:
        layer = Layer.INFRASTRUCTURE
        summary = (
            f"both the probe pod on {client} and {client} itself (a hostNetwork pod) fail: the "
            "drop is in the node network or beyond (a node or cloud firewall), or the database "
            "does not answer"
        )
    else:
        return None  # mixed outcomes: no clean contrast
    return Contrast(
        layer=layer, node=client, summary=summary, cites=cites, node_connects=node_state
    )


def _client_node(placed: Sequence[probes_file.ProbeResult], db_nodes: Collection[str]) -> str:
    return next(
        (p.node for p in placed if p.vantage == "pod" and p.node not in db_nodes),
        "",
    )


def _connects(probes: Sequence[probes_file.ProbeResult]) -> bool:
    return bool(probes) and all(p.ok for p in probes)


def _fails(probes: Sequence[probes_file.ProbeResult]) -> bool:
    return bool(probes) and not any(p.ok for p in probes)


def _state(probes: Sequence[probes_file.ProbeResult]) -> bool | None:
    """True all connect, False none does, None not probed or mixed."""
    if _connects(probes):
        return True
    return False if _fails(probes) else None


def _cite(p: probes_file.ProbeResult) -> model.Cite:
    where = "hostNetwork pod on" if p.vantage == "node" else "labelled probe pod on"
    return model.Cite(
        text=f"probe tcp {p.target} from the {where} {p.node}: {p.outcome} after "
        f"{p.elapsed_ms:.0f} ms",
        source=f"probe tcp ({p.source})",
    )
