"""Everything Calico in one `Evidence`, parsed once: tiers, policies, network sets, problems.

`of(evidence)` is cached by identity. Objects are picked by apiVersion group, so a Calico
``NetworkPolicy`` is never mistaken for a ``networking.k8s.io`` one (they share the kind).
Policies that are valid but not evaluated (staged ones, host-endpoint ones, rules with fields
paramedic cannot decide) are listed in `unmodelled` with the reason; invalid objects in
`invalid`, one line each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects
from paramedic.netpol.calico import compose, resources


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Unmodelled:
    kind: str
    api_version: str
    namespace: str
    name: str
    reason: str
    rule: str = ""
    """'ingress rule 2' when only one rule is not evaluated ('' for the whole object)."""

    @classmethod
    def of(cls, obj: Mapping[str, Any], reason: str, rule: str = "") -> Unmodelled:
        return cls(
            kind=str(obj.get("kind")),
            api_version=str(obj.get("apiVersion")),
            namespace=objects.namespace(obj),
            name=objects.name(obj),
            reason=reason,
            rule=rule,
        )

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}" + (f" {self.rule}" if self.rule else "")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class View:
    tiers: tuple[resources.Tier, ...]
    """Every tier in evaluation order (the default tier always among them)."""
    policies: tuple[resources.Policy, ...]
    """Enforced policies, by tier order, then policy order (Calico's sort)."""
    network_sets: tuple[tuple[resources.NetworkSet, Mapping[str, str]], ...]
    """Each set with the full label map Calico's selectors see."""
    namespace_labels: Mapping[str, Mapping[str, str]]
    account_labels: Mapping[tuple[str, str], Mapping[str, str]]
    """ServiceAccount labels by (namespace, name), where the evidence has the account."""
    staged: tuple[resources.Policy, ...] = ()
    invalid: tuple[resources.Invalid, ...] = ()
    unmodelled: tuple[Unmodelled, ...] = ()
    present: bool = False
    """Whether the evidence holds any Calico object at all."""
    pods: tuple[Mapping[str, Any], ...] = ()

    def tier(self, name: str) -> resources.Tier | None:
        return next((t for t in self.tiers if t.name == name), None)

    def labels(self, pod: Mapping[str, Any]) -> dict[str, str]:
        """The label map Calico sees for `pod`'s workload endpoint."""
        namespace = objects.namespace(pod)
        account = str(objects.spec(pod).get("serviceAccountName") or "default")
        return compose.pod_labels(
            pod,
            namespace_or_default(self.namespace_labels, namespace),
            self.account_labels.get((namespace, account)),
        )


def namespace_or_default(
    namespace_labels: Mapping[str, Mapping[str, str]], namespace: str
) -> Mapping[str, str]:
    """A namespace's labels; one missing from the evidence has only its name label."""
    return namespace_labels.get(namespace) or {"kubernetes.io/metadata.name": namespace}


_CACHE: list[tuple[evidence_model.Evidence, View]] = []


def of(evidence: evidence_model.Evidence) -> View:
    for cached, found in _CACHE:
        if cached is evidence:
            return found
    built = build(evidence)
    _CACHE.insert(0, (evidence, built))
    del _CACHE[4:]
    return built


def calico_objects(evidence: evidence_model.Evidence) -> list[Mapping[str, Any]]:
    """Every Calico object in the evidence that this package reads, less the mirrors of
    Kubernetes NetworkPolicies: Calico's API server lists each networking.k8s.io policy again
    as a projectcalico.org NetworkPolicy named ``knp.default.<name>``; the policy itself is
    read from networking.k8s.io (and joins the default tier at order 1000), never twice."""
    return [
        o
        for kind in resources.KINDS
        for o in evidence.kind(kind)
        if resources.is_calico(o) and not objects.name(o).startswith(KUBERNETES_MIRROR)
    ]


KUBERNETES_MIRROR = "knp.default."
"""The name prefix of a Kubernetes NetworkPolicy as Calico's API lists it."""


def build(evidence: evidence_model.Evidence) -> View:
    namespaces: dict[str, dict[str, str]] = {}
    for ns in evidence.kind("Namespace"):
        labels = objects.labels(ns)
        labels.setdefault("kubernetes.io/metadata.name", objects.name(ns))  # as the API server
        namespaces[objects.name(ns)] = labels
    accounts = {
        (objects.namespace(sa), objects.name(sa)): objects.labels(sa)
        for sa in evidence.kind("ServiceAccount")
    }
    return assemble(calico_objects(evidence), namespaces, accounts, evidence.kind("Pod"))


def assemble(
    found: Iterable[Mapping[str, Any]],
    namespace_labels: Mapping[str, Mapping[str, str]],
    account_labels: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    pods: tuple[Mapping[str, Any], ...] = (),
) -> View:
    """The view of the given Calico objects (used by `build` and by tests directly)."""
    tiers: dict[str, resources.Tier] = {resources.DEFAULT_TIER: resources.IMPLICIT_DEFAULT_TIER}
    policies: list[resources.Policy] = []
    staged: list[resources.Policy] = []
    sets: list[tuple[resources.NetworkSet, Mapping[str, str]]] = []
    invalid: list[resources.Invalid] = []
    unmodelled: list[Unmodelled] = []
    present = False
    for obj in found:
        present = True
        kind = obj.get("kind")
        if kind == "HostEndpoint":
            why = "a host endpoint: policy on node interfaces is not modelled"
            unmodelled.append(Unmodelled.of(obj, why))
            continue
        parsed: Any
        if kind == "Tier":
            parsed = resources.parse_tier(obj)
        elif kind in resources.SET_KINDS:
            parsed = resources.parse_network_set(obj)
        elif kind == "StagedKubernetesNetworkPolicy":
            unmodelled.append(Unmodelled.of(obj, "staged policy: reported, never enforced"))
            continue
        else:
            parsed = resources.parse_policy(obj)
        if isinstance(parsed, resources.Invalid):
            invalid.append(parsed)
        elif isinstance(parsed, resources.Tier):
            tiers[parsed.name] = parsed
        elif isinstance(parsed, resources.NetworkSet):
            ns = parsed.namespace
            ns_labels = namespace_or_default(namespace_labels, ns) if ns else None
            sets.append((parsed, compose.network_set_labels(obj, ns_labels)))
        elif parsed.staged:
            staged.append(parsed)
            unmodelled.append(Unmodelled.of(obj, "staged policy: reported, never enforced"))
        else:
            policies.append(parsed)
            unmodelled.extend(_unmodelled(parsed))
    for p in policies:  # a policy in a tier with no Tier object: Calico sorts that tier last
        tiers.setdefault(p.tier, resources.Tier(name=p.tier, order=None))
    order = {t.name: i for i, t in enumerate(sorted(tiers.values(), key=lambda t: t.sort_key))}
    policies.sort(key=lambda p: (order[p.tier], p.sort_key))
    return View(
        tiers=tuple(sorted(tiers.values(), key=lambda t: order[t.name])),
        policies=tuple(policies),
        network_sets=tuple(sets),
        namespace_labels=namespace_labels,
        account_labels=account_labels or {},
        staged=tuple(staged),
        invalid=tuple(invalid),
        unmodelled=tuple(unmodelled),
        present=present,
        pods=pods,
    )


def _unmodelled(policy: resources.Policy) -> list[Unmodelled]:
    obj = policy.obj
    found = [Unmodelled.of(obj, policy.unmodelled)] if policy.unmodelled else []
    return found + [
        Unmodelled.of(obj, rule.unmodelled, f"{direction} rule {rule.index}")
        for direction, found in (("ingress", policy.ingress_rules), ("egress", policy.egress_rules))
        for rule in found
        if rule.unmodelled
    ]
