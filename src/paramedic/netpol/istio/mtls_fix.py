"""Fixes for STRICT mTLS refusing a client without sidecar (tier istio-mtls), in Istio's terms.

Two fixes, each with its blast radius. The exception: a PeerAuthentication selecting only the
database workload with `portLevelMtls: {PORT: PERMISSIVE}` (or that entry added to the
workload's existing PeerAuthentication, since Istio applies only the oldest one that selects a
pod; for a workload without labels, the namespace's own policy set to PERMISSIVE in place). The
safer alternative: inject the client, so it gets a sidecar and a principal.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, selectors
from paramedic.netpol import naming, peers
from paramedic.netpol.istio import mesh, resources

API_VERSION = "security.istio.io/v1"
Edit = tuple[Any, dict[str, Any], str, str]
"""(edited object or objects, JSON patch op, command, target): an in-place alternative."""


MTLS_NOTE = (
    "STRICT mTLS refuses the client because it has no sidecar. Safer: inject the client (the "
    "alternative): connections stay mutually authenticated and encrypted and the client gets a "
    "principal AuthorizationPolicies can name. The PeerAuthentication exception is the smaller "
    "change but accepts plaintext on that port from every client without sidecar that the "
    "network lets through (its blast radius lists them)"
)


def selector_labels(selector: Mapping[str, Any]) -> dict[str, str]:
    """Istio selects by matchLabels only."""
    return {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()}


def plaintext_exception(
    evidence: evidence_model.Evidence,
    dst: tuple[peers.Peer, Mapping[str, Any]],
    port: int,
    name: str,
) -> tuple[dict[str, Any] | None, Edit | None]:
    peer, selector = dst
    labels = selector_labels(selector)
    entry = {str(port): {"mode": "PERMISSIVE"}}
    owning = [
        o
        for o in evidence.kind("PeerAuthentication", peer.namespace)
        if resources.is_istio(o, "PeerAuthentication")
        and isinstance(objects.spec(o).get("selector"), dict)
        and selectors.matches(objects.as_dict(objects.spec(o)["selector"]), peer.labels)
    ]
    if owning:  # only the oldest workload policy applies: edit it instead of adding one
        owning.sort(
            key=lambda o: (objects.text(objects.meta(o).get("creationTimestamp")), objects.name(o))
        )
        target = owning[0]
        edited = copy.deepcopy(dict(target))
        edited["spec"].setdefault("portLevelMtls", {}).update(entry)
        op = {"op": "add", "path": f"/spec/portLevelMtls/{port}", "value": entry[str(port)]}
        ref = objects.name(target)
        command = (
            f"kubectl -n {peer.namespace} patch peerauthentications.security.istio.io {ref} "
            f"--type=json -p '{json.dumps([op])}'"
        )
        return None, (edited, op, command, f"PeerAuthentication {peer.namespace}/{ref}")
    if not labels:  # an empty selector is namespace-wide to Istio: it cannot single this out
        return None, namespace_permissive(evidence, peer.namespace)
    obj = {
        "apiVersion": API_VERSION,
        "kind": "PeerAuthentication",
        "metadata": {
            "namespace": peer.namespace,
            "name": naming.unused_name(
                evidence, "PeerAuthentication", peer.namespace, f"{name}-plaintext"
            ),
        },
        "spec": {"selector": {"matchLabels": labels}, "portLevelMtls": entry},
    }
    return obj, None


def namespace_permissive(evidence: evidence_model.Evidence, namespace: str) -> Edit | None:
    """For a workload without labels: the namespace's own policy (the oldest without a
    selector) set to PERMISSIVE, in place; its blast radius is every pod of the namespace."""
    wide = sorted(
        (
            o
            for o in evidence.kind("PeerAuthentication", namespace)
            if resources.is_istio(o, "PeerAuthentication")
            and not selector_labels(objects.as_dict(objects.spec(o).get("selector")))
        ),
        key=lambda o: (objects.text(objects.meta(o).get("creationTimestamp")), objects.name(o)),
    )
    if not wide:
        return None
    target = wide[0]
    edited = copy.deepcopy(dict(target))
    edited["spec"]["mtls"] = {"mode": "PERMISSIVE"}
    op = {"op": "add", "path": "/spec/mtls", "value": {"mode": "PERMISSIVE"}}
    ref = objects.name(target)
    command = (
        f"kubectl -n {namespace} patch peerauthentications.security.istio.io {ref} "
        f"--type=json -p '{json.dumps([op])}'"
    )
    return edited, op, command, f"PeerAuthentication {namespace}/{ref}"


def injection(
    evidence: evidence_model.Evidence, src: tuple[peers.Peer, Mapping[str, Any]]
) -> list[Edit]:
    """The client's pods with a sidecar, and the command that gets them one."""
    peer, selector = src
    if peer.kind != "pod" or not peer.selectable:
        return []
    chosen: list[Mapping[str, Any]] = [
        p
        for p in evidence.kind("Pod", peer.namespace)
        if selector and selectors.matches(selector, objects.labels(p))
    ] or ([peer.obj] if peer.obj is not None and peer.obj.get("kind") == "Pod" else [])
    injected = tuple(_with_sidecar(p) for p in chosen)
    if not injected:
        return []
    owner = peer.obj if peer.obj is not None and peer.obj.get("kind") != "Pod" else None
    if owner is None and chosen:
        workloads = [
            w
            for k in ("Deployment", "StatefulSet", "DaemonSet")
            for w in evidence.kind(k, peer.namespace)
        ]
        owner = pods.owner_workload(
            chosen[0], workloads, evidence.kind("ReplicaSet", peer.namespace)
        )
    label = {"spec": {"template": {"metadata": {"labels": {mesh.INJECT: "true"}}}}}
    op = {"op": "merge", "value": label}
    if owner is not None and owner.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        kind = str(owner["kind"]).lower()
        target = f"{owner['kind']} {peer.namespace}/{objects.name(owner)}"
        command = (
            f"kubectl -n {peer.namespace} patch {kind} {objects.name(owner)} --type=merge "
            f"-p '{json.dumps(label)}'  # injects the sidecar: its pods restart"
        )
    else:
        target = f"namespace {peer.namespace}"
        command = (
            f"kubectl label namespace {peer.namespace} istio-injection=enabled --overwrite "
            f"&& kubectl -n {peer.namespace} delete pod {objects.name(chosen[0])}"
        )
    return [(injected, op, command, f"{target} (inject its sidecar)")]


def _with_sidecar(pod: Mapping[str, Any]) -> dict[str, Any]:
    edited = copy.deepcopy(dict(pod))
    spec = edited["spec"] = dict(objects.spec(edited))  # a damaged spec (null, a list) too
    spec["containers"] = [*objects.as_list(spec.get("containers")), {"name": mesh.PROXY}]
    return edited
