"""The engine's view of one `Evidence`: namespace labels, pods, parsed policies, node IPs.

Built once per Evidence and cached (by identity; the last few are kept), so a single check after
loading costs a few selector matches, not a re-parse of thousands of policies.

Every namespace carries `kubernetes.io/metadata.name` (the API server adds it; old dumps and
hand-written bundles may lack it). A namespace referenced by a pod or policy but absent from the
evidence is treated as existing with only that label.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects
from paramedic.netpol import policies as policy_model
from paramedic.netpol import validation

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    namespaces: Mapping[str, Mapping[str, str]]
    """Labels of every known namespace, always with kubernetes.io/metadata.name."""
    pods: tuple[Mapping[str, Any], ...]
    policies: tuple[policy_model.Policy, ...]
    by_namespace: Mapping[str, tuple[policy_model.Policy, ...]]
    invalid: tuple[policy_model.Invalid, ...]
    node_ips: frozenset[str] = frozenset()
    """Addresses of cluster nodes: Node objects' addresses and every pod's hostIP."""
    node_labels: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    """Labels of the Node each known node address belongs to."""
    evidence: evidence_model.Evidence | None = dataclasses.field(default=None, compare=False)
    programs: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """Compiled forms of this view per CNI (filled by `layers.program`)."""

    def objects(self, kind: str, namespace: str | None = None) -> tuple[Mapping[str, Any], ...]:
        return self.evidence.kind(kind, namespace) if self.evidence is not None else ()

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        return self.namespaces.get(namespace) or {NAME_LABEL: namespace}

    def policies_in(self, namespace: str) -> tuple[policy_model.Policy, ...]:
        return self.by_namespace.get(namespace, ())

    def invalid_in(self, namespace: str) -> tuple[policy_model.Invalid, ...]:
        return tuple(i for i in self.invalid if i.namespace == namespace)


_CACHE: list[tuple[evidence_model.Evidence, Cluster]] = []
_CACHE_SIZE = 4


def of(evidence: evidence_model.Evidence) -> Cluster:
    """The (cached) engine view of `evidence`."""
    for cached, view in _CACHE:
        if cached is evidence:
            return view
    view = build(evidence)
    _CACHE.insert(0, (evidence, view))
    del _CACHE[_CACHE_SIZE:]
    return view


def adopt(
    after: evidence_model.Evidence,
    before: evidence_model.Evidence,
    added: tuple[Mapping[str, Any], ...] = (),
    removed: tuple[tuple[str, str], ...] = (),
) -> Cluster:
    """The view of `after` = `before` plus NetworkPolicies `added`, minus (namespace, name)s
    `removed`, derived from before's view (only the changed policies are parsed) and cached."""
    base = of(before)
    parsed = [p for p in base.policies if (p.namespace, p.name) not in removed]
    invalid = [i for i in base.invalid if (i.namespace, i.name) not in removed]
    for obj in added:
        result = validation.parse(obj)
        (parsed if isinstance(result, policy_model.Policy) else invalid).append(result)  # type: ignore[arg-type]
    namespaces = dict(base.namespaces)
    for p in parsed:
        namespaces.setdefault(p.namespace, {NAME_LABEL: p.namespace})
    view = _assemble(namespaces, base.pods, parsed, invalid, base.node_ips, base.node_labels, after)
    _CACHE.insert(0, (after, view))
    del _CACHE[_CACHE_SIZE:]
    return view


def build(evidence: evidence_model.Evidence) -> Cluster:
    namespaces: dict[str, dict[str, str]] = {}
    for ns in evidence.kind("Namespace"):
        labels = objects.labels(ns)
        labels.setdefault(NAME_LABEL, objects.name(ns))
        namespaces[objects.name(ns)] = labels
    pods = tuple(evidence.kind("Pod"))
    parsed: list[policy_model.Policy] = []
    invalid: list[policy_model.Invalid] = []
    for obj in evidence.kind("NetworkPolicy"):
        if not is_kubernetes_policy(obj):
            continue  # a Calico projectcalico.org NetworkPolicy: its own layer reads it
        result = validation.parse(obj)
        (parsed if isinstance(result, policy_model.Policy) else invalid).append(result)  # type: ignore[arg-type]
    for name in {objects.namespace(p) for p in pods} | {p.namespace for p in parsed}:
        if name and name not in namespaces:
            namespaces[name] = {NAME_LABEL: name}
    node_ips = {
        str(objects.status(p).get("hostIP")) for p in pods if objects.status(p).get("hostIP")
    }
    node_labels: dict[str, Mapping[str, str]] = {}
    for node in evidence.kind("Node"):
        for address in objects.as_list(objects.status(node).get("addresses")):
            if isinstance(address, dict) and address.get("type") in ("InternalIP", "ExternalIP"):
                node_ips.add(str(address.get("address")))
                node_labels[str(address.get("address"))] = objects.labels(node)
    for ip in node_ips:
        node_labels.setdefault(ip, {})  # a node known only as a pod's hostIP: no labels read
    return _assemble(namespaces, pods, parsed, invalid, frozenset(node_ips), node_labels, evidence)


def is_kubernetes_policy(obj: Mapping[str, Any]) -> bool:
    """A networking.k8s.io NetworkPolicy (not another API group's kind of the same name)."""
    group = str(obj.get("apiVersion") or "networking.k8s.io/v1").rpartition("/")[0]
    return group in ("networking.k8s.io", "extensions", "")


def _assemble(
    namespaces: Mapping[str, Mapping[str, str]],
    pods: tuple[Mapping[str, Any], ...],
    parsed: list[policy_model.Policy],
    invalid: list[policy_model.Invalid],
    node_ips: frozenset[str],
    node_labels: Mapping[str, Mapping[str, str]],
    evidence: evidence_model.Evidence,
) -> Cluster:
    parsed.sort(key=lambda p: (p.namespace, p.name))
    by_namespace: dict[str, list[policy_model.Policy]] = {}
    for p in parsed:
        by_namespace.setdefault(p.namespace, []).append(p)
    return Cluster(
        namespaces=namespaces,
        pods=pods,
        policies=tuple(parsed),
        by_namespace={ns: tuple(items) for ns, items in by_namespace.items()},
        invalid=tuple(sorted(invalid, key=lambda i: (i.namespace, i.name))),
        node_ips=node_ips,
        node_labels=node_labels,
        evidence=evidence,
    )
