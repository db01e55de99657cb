"""What Cilium's endpoint selectors see, and selectors written the way Cilium reads them.

An endpoint's labels are its pod's labels (source `k8s`) plus what the agent derives:

    io.kubernetes.pod.namespace            the pod's namespace
    io.cilium.k8s.namespace.labels.<key>   each label of that namespace
    io.cilium.k8s.policy.serviceaccount    the pod's service account
    io.cilium.k8s.policy.cluster           the cluster's name (`default` unless configured)

A selector key may carry a source prefix: `k8s:` (Kubernetes labels) and `any:` mean the same
label here, `reserved:` names one of Cilium's reserved identities (world, host, ...) and is not
a pod label at all. A CiliumNetworkPolicy's selectors only reach its own namespace unless they
name `io.kubernetes.pod.namespace` themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from paramedic.kube import objects

NAMESPACE = "io.kubernetes.pod.namespace"
NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."
SERVICE_ACCOUNT = "io.cilium.k8s.policy.serviceaccount"
CLUSTER = "io.cilium.k8s.policy.cluster"
CLUSTER_NAME = "default"
SAME_LABEL = ("k8s:", "any:")
"""Source prefixes that stand for the pod's own labels."""


def endpoint_labels(
    namespace_labels: Callable[[str], Mapping[str, str]],
    namespace: str,
    own: Mapping[str, str],
    obj: Mapping[str, Any] | None,
) -> dict[str, str]:
    """The label map Cilium's selectors match for a pod (or a workload's pod template)."""
    seen = dict(own)
    seen[NAMESPACE] = namespace
    for key, value in namespace_labels(namespace).items():
        seen[NAMESPACE_LABELS + key] = value
    spec = objects.spec(obj) if obj is not None and obj.get("kind") == "Pod" else {}
    if obj is not None and obj.get("kind") != "Pod":
        template = objects.as_dict(objects.spec(obj).get("template"))
        spec = objects.as_dict(template.get("spec"))
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    seen[SERVICE_ACCOUNT] = str(account)
    seen[CLUSTER] = CLUSTER_NAME
    return seen


def strip(key: str) -> tuple[str, str | None]:
    """(the label key as a pod carries it, the source it names when that is not a pod label)."""
    for prefix in SAME_LABEL:
        if key.startswith(prefix):
            return key[len(prefix) :], None
    source, colon, rest = key.partition(":")
    if colon and "/" not in source and "." not in source:
        return rest, source
    return key, None


def normalize(selector: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(the selector with source prefixes removed, sources it names that are not pod labels:
    'reserved', 'cidr', ...). The input is a mapping whose fields have been type-checked."""
    foreign: set[str] = set()
    out: dict[str, Any] = {}
    labels = objects.as_dict(selector.get("matchLabels"))
    if labels:
        out["matchLabels"] = {}
        for key, value in labels.items():
            bare, source = strip(str(key))
            foreign.update([source] if source else [])
            out["matchLabels"][bare] = value
    exprs = []
    for expr in objects.as_list(selector.get("matchExpressions")):
        if isinstance(expr, dict):
            bare, source = strip(str(expr.get("key", "")))
            foreign.update([source] if source else [])
            exprs.append({**expr, "key": bare})
    if exprs:
        out["matchExpressions"] = exprs
    return out, foreign


def names_namespace(selector: Mapping[str, Any]) -> bool:
    """Whether the (normalised) selector constrains io.kubernetes.pod.namespace itself."""
    if NAMESPACE in objects.as_dict(selector.get("matchLabels")):
        return True
    return any(
        isinstance(e, dict) and e.get("key") == NAMESPACE
        for e in objects.as_list(selector.get("matchExpressions"))
    )


def key(selector: Mapping[str, Any]) -> str:
    return json.dumps(selector, sort_keys=True, default=str)
