"""Calico policy objects -> validated values: Tier, Policy (with its rules), NetworkSet.

Both forms are read: ``projectcalico.org/v3`` (with the Calico API server) and
``crd.projectcalico.org/v1`` (what ``kubectl get`` returns without it); their specs are the same.
Facts from Calico's reference docs (Tier, NetworkPolicy, GlobalNetworkPolicy, Staged*,
NetworkSet, GlobalNetworkSet) and its API types:

- a policy's `tier` defaults to ``default``; `order` unset sorts last; `types` unset defaults
  to Ingress, plus Egress when there are egress rules (Egress alone when only egress rules);
- a namespaced NetworkPolicy has no `namespaceSelector`; `global()` is for namespaceSelectors;
- a Tier's `order` unset sorts last, `defaultAction` is Deny (default) or Pass; the ``default``
  tier always exists (order 1,000,000, Deny) even when no Tier object for it is in the evidence;
- Staged* policies are never enforced; preDNAT, doNotTrack and applyOnForward policies act on
  host endpoints, which paramedic does not model: they are kept with that reason.

A policy Calico would reject is returned as `Invalid` with every problem, one per field.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects
from paramedic.netpol import model
from paramedic.netpol.calico import compose, rules
from paramedic.netpol.calico import selector as sel

GROUPS = ("projectcalico.org", "crd.projectcalico.org")
POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy")
STAGED_KINDS = ("StagedNetworkPolicy", "StagedGlobalNetworkPolicy", "StagedKubernetesNetworkPolicy")
SET_KINDS = ("NetworkSet", "GlobalNetworkSet")
KINDS = (*POLICY_KINDS, *STAGED_KINDS, "Tier", *SET_KINDS, "HostEndpoint")
DEFAULT_TIER = "default"
DEFAULT_TIER_ORDER = 1_000_000.0
KUBERNETES_POLICY_ORDER = 1000.0
"""Calico converts every networking.k8s.io NetworkPolicy into a default-tier policy at 1000."""
_HOST_ONLY = ("preDNAT", "doNotTrack", "applyOnForward")


def is_calico(obj: Mapping[str, Any]) -> bool:
    """Whether the object is one of Calico's (by apiVersion group), of a kind read here."""
    group = str(obj.get("apiVersion") or "").split("/")[0]
    return group in GROUPS and obj.get("kind") in KINDS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    name: str
    order: float | None
    default_action: rules.Action = rules.Action.DENY

    @property
    def sort_key(self) -> tuple[float, str]:
        return (math.inf if self.order is None else self.order, self.name)


IMPLICIT_DEFAULT_TIER = Tier(name=DEFAULT_TIER, order=DEFAULT_TIER_ORDER)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    kind: str
    namespace: str
    """'' for a GlobalNetworkPolicy."""
    name: str
    tier: str
    order: float | None
    subject: sel.Selector
    """The endpoints it applies to, already scoped (namespace, service accounts)."""
    namespace_selector: sel.Selector | None = None
    """A GlobalNetworkPolicy's own namespaceSelector, as written (already inside `subject`)."""
    ingress: bool
    egress: bool
    ingress_rules: tuple[rules.Rule, ...]
    egress_rules: tuple[rules.Rule, ...]
    staged: bool = False
    host_only: bool = False
    """preDNAT or doNotTrack: Calico applies it to host endpoints only, never to pods."""
    unmodelled: str = ""
    """What of this policy paramedic does not evaluate, and why ('' when nothing)."""
    obj: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        label = self.kind if self.kind.startswith("Global") else f"{self.kind} (projectcalico.org)"
        return f"{label} {where}"

    @property
    def sort_key(self) -> tuple[float, str]:
        """Calico's order within a tier: `order` (unset last), then name/namespace/kind."""
        order = math.inf if self.order is None else self.order
        return (order, f"{self.name}/{self.namespace}/{self.kind}")

    def applies(self, direction: model.Direction) -> bool:
        return self.egress if direction is model.Direction.EGRESS else self.ingress

    def rules(self, direction: model.Direction) -> tuple[rules.Rule, ...]:
        return self.egress_rules if direction is model.Direction.EGRESS else self.ingress_rules


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NetworkSet:
    namespace: str
    """'' for a GlobalNetworkSet."""
    name: str
    nets: tuple[rules.Network, ...]
    labels: Mapping[str, str]
    """Its own labels; `compose.network_set_labels` adds what Calico adds."""

    @property
    def ref(self) -> str:
        return (
            f"NetworkSet {self.namespace}/{self.name}"
            if self.namespace
            else (f"GlobalNetworkSet {self.name}")
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    kind: str
    namespace: str
    name: str
    problems: tuple[str, ...]

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    def describe(self) -> str:
        return f"{self.ref} is invalid (Calico would reject it): {'; '.join(self.problems)}"


def parse_tier(obj: Mapping[str, Any]) -> Tier | Invalid:
    problems: list[str] = []
    spec, name = objects.spec(obj), objects.name(obj)
    order = _order(spec.get("order"), problems)
    action = spec.get("defaultAction", "Deny")
    if action not in ("Deny", "Pass"):
        problems.append(f"spec.defaultAction: {action!r} is not Deny or Pass")
    if name == DEFAULT_TIER and (order != DEFAULT_TIER_ORDER or action != "Deny"):
        problems.append("the default tier must have order 1000000 and defaultAction Deny")
    if not name or "." in name:
        problems.append(f"metadata.name: {name!r} is not a tier name (no dots)")
    if problems:
        return Invalid(kind="Tier", namespace="", name=name, problems=tuple(problems))
    return Tier(name=name, order=order, default_action=rules.Action(action))


def parse_policy(obj: Mapping[str, Any]) -> Policy | Invalid:
    """A Calico (Staged)NetworkPolicy or (Staged)GlobalNetworkPolicy."""
    kind, spec = str(obj.get("kind")), objects.spec(obj)
    namespaced = "Global" not in kind
    namespace = (objects.namespace(obj) or "default") if namespaced else ""
    problems: list[str] = []
    order = _order(spec.get("order"), problems)
    selector = rules.parse_selector(spec.get("selector"), "spec.selector", problems, local=True)
    namespace_selector = rules.parse_selector(
        spec.get("namespaceSelector"), "spec.namespaceSelector", problems
    )
    if namespaced and namespace_selector is not None:
        problems.append("spec.namespaceSelector: only a GlobalNetworkPolicy has one")
    account_selector = rules.parse_selector(
        spec.get("serviceAccountSelector"), "spec.serviceAccountSelector", problems
    )
    ingress = _rules(spec.get("ingress"), "spec.ingress", problems)
    egress = _rules(spec.get("egress"), "spec.egress", problems)
    types = _types(spec.get("types"), bool(spec.get("ingress")), bool(spec.get("egress")), problems)
    if kind.startswith("Staged") and spec.get("stagedAction", "Set") not in (
        "Set", "Delete", "Learn", "Ignore"
    ):  # fmt: skip
        problems.append(f"spec.stagedAction: unknown value {spec.get('stagedAction')!r}")
    tier = spec.get("tier") or DEFAULT_TIER
    if not isinstance(tier, str):
        problems.append(f"spec.tier: {tier!r} is not a tier name")
    if not objects.name(obj):
        problems.append("metadata.name: required")
    if problems:
        return Invalid(
            kind=kind, namespace=namespace, name=objects.name(obj), problems=tuple(problems)
        )
    host_only = [f for f in _HOST_ONLY if spec.get(f) is True]
    return Policy(
        kind=kind,
        namespace=namespace,
        name=objects.name(obj),
        tier=str(tier),
        order=order,
        subject=compose.policy_subject(
            namespace=namespace,
            selector=selector,
            namespace_selector=namespace_selector,
            service_account_selector=account_selector,
        ),
        namespace_selector=namespace_selector,
        ingress="Ingress" in types,
        egress="Egress" in types,
        ingress_rules=ingress,
        egress_rules=egress,
        staged=kind.startswith("Staged"),
        host_only=bool(set(host_only) & {"preDNAT", "doNotTrack"}),
        unmodelled=(
            f"{', '.join(host_only)}: acts on host endpoints, which paramedic does not model"
            if host_only
            else ""
        ),
        obj=obj,
    )


def parse_network_set(obj: Mapping[str, Any]) -> NetworkSet | Invalid:
    kind = str(obj.get("kind"))
    namespace = (objects.namespace(obj) or "default") if kind == "NetworkSet" else ""
    problems: list[str] = []
    nets = []
    raw = objects.spec(obj).get("nets")
    for i, item in enumerate(objects.as_list(raw)):
        try:
            nets.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            problems.append(f"spec.nets[{i}]: {item!r} is not a CIDR")
    if raw is not None and not isinstance(raw, list):
        problems.append("spec.nets: must be a list of CIDRs")
    if problems:
        return Invalid(
            kind=kind, namespace=namespace, name=objects.name(obj), problems=tuple(problems)
        )
    return NetworkSet(
        namespace=namespace, name=objects.name(obj), nets=tuple(nets), labels=objects.labels(obj)
    )


def _order(raw: Any, problems: list[str]) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        problems.append(f"spec.order: {raw!r} is not a number")
        return None
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"spec.order: {raw!r} is not a number")
        return None
    if not math.isfinite(value):
        problems.append(f"spec.order: {raw!r} is not a finite number")
        return None
    return value


def _types(raw: Any, has_ingress: bool, has_egress: bool, problems: list[str]) -> frozenset[str]:
    if raw is None or raw == []:
        if has_egress and not has_ingress:
            return frozenset({"Egress"})
        return frozenset({"Ingress", "Egress"} if has_egress else {"Ingress"})
    if not isinstance(raw, list):
        problems.append("spec.types: must be a list (Ingress, Egress)")
        return frozenset()
    for i, item in enumerate(raw):
        if item not in ("Ingress", "Egress"):
            problems.append(f"spec.types[{i}]: unknown type {item!r} (Ingress, Egress)")
    return frozenset(str(t) for t in raw)


def _rules(raw: Any, where: str, problems: list[str]) -> tuple[rules.Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list of rules")
        return ()
    parsed = (rules.parse_rule(item, i, f"{where}[{i}]", problems) for i, item in enumerate(raw))
    return tuple(r for r in parsed if r is not None)
