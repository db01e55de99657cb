"""`--probe-pod` from where the contrast lives: which probe pods to run, and on which nodes.

One probe from a labelled pod says "this pod cannot connect"; it cannot say why. Two more tell
the layers apart (docs/CHECKS.md, "The node probe"):

- a hostNetwork pod on the same client node: the node's own network, which no NetworkPolicy
  selects. The pod fails and its node connects: a policy layer. Both fail: the node network
  (a node or cloud firewall) or the database itself.
- a labelled pod on the database's node (in-cluster targets): it connects while the pod on the
  client's node fails: the path between the nodes.

A hostNetwork pod needs a namespace whose Pod Security admits it: the namespace's
`pod-security.kubernetes.io/enforce` label `privileged` (or no label: the cluster's default,
which admission then decides). `baseline` and `restricted` forbid host namespaces, so that probe
is a gap naming the label and the command that would allow it, never a failed create.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.gather import fetch, probe_pod, table
from paramedic.kube import objects

ENFORCE = "pod-security.kubernetes.io/enforce"
FORBIDS_HOST_NETWORK = ("baseline", "restricted")
NODE_LABELS = {
    "app.kubernetes.io/name": "paramedic-probe",
    "app.kubernetes.io/component": "node-probe",
}
"""The hostNetwork pod's labels: its own (no policy selects a host-network pod anyway)."""


def specs(
    fetcher: fetch.Fetcher,
    *,
    namespace: str,
    labels: Mapping[str, str],
    checks: Sequence[probe_pod.Check],
    source_pods: Sequence[Mapping[str, Any]],
    target_pods: Sequence[Mapping[str, Any]],
) -> list[probe_pod.Spec]:
    """The labelled pod on a client's node, the hostNetwork pod beside it (when Pod Security
    admits it) and a labelled pod on the database's node (when that is another node)."""
    db_node = _node(target_pods)
    client = _client_node(source_pods, db_node)
    first = probe_pod.Spec(vantage="pod", labels=labels, checks=tuple(checks), node=client)
    tcp = tuple(c for c in checks if c.kind == "tcp")
    if not tcp:
        return [first]
    if not client:
        fetcher.gaps.append(
            "node probe not run: no client pod is on a node yet (spec.nodeName), so there is no "
            "node to probe from"
        )
        return [first]
    out = [first]
    level = enforce_level(fetcher, namespace)
    if level in FORBIDS_HOST_NETWORK:
        fetcher.gaps.append(forbidden_gap(namespace, level, client, tcp[0]))
    else:
        out.append(probe_pod.Spec(vantage="node", labels=NODE_LABELS, checks=tcp, node=client))
    if db_node and db_node != client:
        out.append(probe_pod.Spec(vantage="pod", labels=labels, checks=tcp, node=db_node))
    return out


def enforce_level(fetcher: fetch.Fetcher, namespace: str) -> str:
    """The namespace's Pod Security enforce level; '' when unlabelled or unreadable (then the
    create is tried and admission's answer, if a refusal, becomes the gap)."""
    reply = fetcher.call(
        fetch.Request(
            what=f"get namespace {namespace} (its Pod Security level, for the node probe)",
            path=table.path("Namespace", None, namespace),
            kind="Namespace",
        )
    )
    found = fetch.obj(reply)
    return str(objects.labels(found).get(ENFORCE, "")) if found is not None else ""


def forbidden_gap(namespace: str, level: str, node: str, check: probe_pod.Check) -> str:
    """Why the node probe did not run, the label that would allow it, and the same test by hand."""
    target = f"{shlex.quote(check.host)} {int(check.port or 0)}"
    return (
        f"node probe not run: namespace {namespace} enforces Pod Security {level!r} "
        f"({ENFORCE}={level}), which forbids hostNetwork pods. A namespace labelled "
        f"{ENFORCE}=privileged admits it (kubectl label namespace {namespace} "
        f"{ENFORCE}=privileged --overwrite; undo: kubectl label namespace {namespace} "
        f"{ENFORCE}={level} --overwrite), or test from the node yourself: kubectl debug "
        f"node/{node} -it --image=busybox:1.36 -- nc -vz -w 5 {target}"
    )


def _node(pods: Sequence[Mapping[str, Any]]) -> str:
    return next((n for p in pods if (n := str(objects.spec(p).get("nodeName") or ""))), "")


def _client_node(pods: Sequence[Mapping[str, Any]], db_node: str) -> str:
    """A client's node, preferring one that is not the database's (where the contrast is)."""
    nodes = [str(objects.spec(p).get("nodeName") or "") for p in pods]
    return next((n for n in nodes if n and n != db_node), "") or next((n for n in nodes if n), "")
