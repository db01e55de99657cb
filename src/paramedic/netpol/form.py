"""The compiled form: what every policy kind compiles into, and the one meaning it has.

    Program  tiers in evaluation order, plus invalid and unmodelled objects
    Tier     policies in order; `end`: what happens to an endpoint that a policy of the tier
             selected (for that direction) when no rule of the tier decided
    Policy   subject (which pods, for which directions) + ordered ingress and egress rules
    Rule     peers (the other end) + ports + action Allow | Deny | Pass
    Term     one endpoint pattern; every part that is set must hold (AND), a rule's terms are OR-ed

One direction of a flow (the source's egress, the destination's ingress) is decided for its
*subject* pod like this (`explain` does it pair by pair, `fast` for all pairs; both read only
this form):

    for each tier, in order:
        for each policy of the tier that selects the subject for this direction, in order:
            for each rule of that direction, in order, whose peers match the other end and
            whose ports admit the flow:
                Allow -> allowed, Deny -> denied (final); Pass -> leave this tier
        a policy selected the subject and nothing decided -> tier.end (Deny, or Pass on)
    nothing decided -> allowed (Kubernetes' default)

Tiers belong to an enforcement *point* (`Tier.point`): the CNI's data path, or a mesh's proxy in
front of the pod. The walk above runs once per point, over that point's tiers (an Allow decides
only for its point); a flow must pass every point. The data path's tiers come first.

The NetworkPolicy tier: Allow rules only, end Deny ("isolation"). The admin tier: end Pass, so an
AdminNetworkPolicy never isolates by itself. Matching rules of the semantics switches (ipBlock vs
pod/node IPs, self and own-node traffic) live in `model.Semantics` and apply to every layer.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from paramedic.netpol import model
from paramedic.netpol.policies import IPBlock, PortSpec

Direction = model.Direction


DATAPATH = "datapath"
"""The enforcement point of the CNI's (and Kubernetes') tiers; a mesh names its own."""


class Action(enum.StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"


class LabelMatch(Protocol):
    """A predicate over a label map (a Kubernetes LabelSelector, a Calico selector, ...)."""

    @property
    def key(self) -> str:
        """Canonical text: equal keys match the same label maps (used as a cache key)."""

    @property
    def keys(self) -> frozenset[str]:
        """Every label key the predicate reads (pods differing elsewhere are equivalent)."""

    @property
    def required(self) -> Mapping[str, str]:
        """Labels every match must carry (may be empty): narrows candidates by an index."""

    def matches(self, labels: Mapping[str, str]) -> bool: ...

    def describe(self) -> str: ...


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    """Endpoints matching every part that is set. Pod parts (`namespace`, `namespaces`, `pods`)
    match pods on the pod network only; `nets`/`not_nets` match the address on the wire (pod,
    node or outside IP, subject to the ipBlock switches); `nodes` matches node addresses (node
    IPs, hostNetwork pods) of nodes whose labels match."""

    key: str
    text: str
    """How the layer words it ('pods app=a in namespace x', 'ipBlock 10.0.0.0/8')."""
    namespace: str | None = None
    namespaces: LabelMatch | None = None
    pods: LabelMatch | None = None
    nets: tuple[IPBlock, ...] | None = None
    not_nets: tuple[IPBlock, ...] = ()
    nodes: LabelMatch | None = None
    off_pod_network: bool = False
    """Matches only endpoints that are not pods on the pod network (an outside address, a node,
    a hostNetwork pod): what a mesh sees as a peer without identity, besides pods without one."""

    @property
    def pod_scoped(self) -> bool:
        return self.namespace is not None or self.namespaces is not None or self.pods is not None

    def label_keys(self) -> frozenset[str]:
        return self.pods.keys if self.pods is not None else frozenset()

    def networks(self) -> Iterator[IPBlock]:
        yield from self.nets or ()
        yield from self.not_nets


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    action: Action
    peers: tuple[Term, ...] | None
    """None: every endpoint."""
    ports: tuple[PortSpec, ...] | None
    """None: every port and protocol. A PortSpec with protocol None admits any protocol."""
    not_ports: tuple[PortSpec, ...] = ()
    """Ports the rule never applies to (Calico notPorts)."""
    index: int
    label: str
    """How reports name it: 'egress[0]', 'ingress rule 1 "deny-db"'."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    kind: str
    namespace: str
    """'' for a cluster-scoped policy."""
    name: str
    tier: str
    order: float | None
    """Priority / order within the tier (lower first); None: no order (NetworkPolicy)."""
    subject: Term
    directions: frozenset[Direction]
    """The directions for which selecting a pod counts (NetworkPolicy: its policyTypes)."""
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    source: Any = dataclasses.field(default=None, compare=False, repr=False)
    """The layer's parsed object (e.g. policies.Policy), for fixes and longer descriptions."""

    @property
    def ref(self) -> str:
        return model.object_ref(self.kind, self.namespace, self.name)

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.egress if direction is Direction.EGRESS else self.ingress


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    name: str
    layer: str
    """The layer that compiled it ('admin', 'networkpolicy', 'baseline', 'calico', ...)."""
    end: Action
    """For a subject some policy of this tier selected, when no rule decided: DENY or PASS."""
    policies: tuple[Policy, ...]
    point: str = DATAPATH
    """The enforcement point it belongs to (see the module docstring)."""
    _by_namespace: Mapping[str, tuple[Policy, ...]] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )
    _merged: dict[str, tuple[Policy, ...]] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )
    """Per namespace, its policies and the cluster-scoped ones in tier order (filled lazily)."""
    _order: dict[int, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    """Position of each policy (by identity) in the tier, built on first need."""

    @classmethod
    def of(
        cls, name: str, layer: str, end: Action, items: Sequence[Policy], point: str = ""
    ) -> Tier:
        by_ns: dict[str, list[Policy]] = {}
        for p in items:
            by_ns.setdefault(p.namespace, []).append(p)
        return cls(
            name=name,
            layer=layer,
            end=end,
            policies=tuple(items),
            point=point or DATAPATH,
            _by_namespace={ns: tuple(v) for ns, v in by_ns.items()},
        )

    @property
    def isolating(self) -> bool:
        """Whether being selected by one of its policies closes what its rules do not allow."""
        return self.end is Action.DENY

    def candidates(self, namespace: str) -> tuple[Policy, ...]:
        """The policies that could select a pod in `namespace`, in tier order."""
        local = self._by_namespace.get(namespace, ())
        cluster_wide = self._by_namespace.get("", ())
        if not cluster_wide or not local:
            return local or cluster_wide
        merged = self._merged.get(namespace)
        if merged is None:
            if not self._order:
                self._order.update((id(p), i) for i, p in enumerate(self.policies))
            merged = tuple(sorted((*local, *cluster_wide), key=lambda p: self._order[id(p)]))
            self._merged[namespace] = merged
        return merged


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    """An object its API server would reject: named with every problem, never evaluated."""

    kind: str
    namespace: str
    name: str
    problems: tuple[str, ...]
    subject: Term | None = None
    """Whom it would have applied to, when that could be read (None: anyone)."""

    @property
    def ref(self) -> str:
        return model.object_ref(self.kind, self.namespace, self.name)

    def describe(self) -> str:
        return f"{self.ref} is invalid (the API server would reject it): {'; '.join(self.problems)}"


Unmodelled = model.Unmodelled


PodLabels = Callable[[str, Mapping[str, str], Mapping[str, Any] | None], Mapping[str, str]]
"""(namespace, the pod's labels, the Pod or workload object) -> the label map selectors see.
A layer may add facts that are not labels (a service account, a sidecar, a mesh identity) under
keys no Kubernetes label can have (they start with ':'), so no selector of another layer can
read them; layers chain: each receives the map the previous one made."""


def chain(first: PodLabels | None, then: PodLabels | None) -> PodLabels | None:
    """Both layers' additions: `then` sees what `first` made."""
    if first is None or then is None:
        return first or then
    return lambda namespace, own, obj: then(namespace, first(namespace, own, obj), obj)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Program:
    tiers: tuple[Tier, ...]
    invalid: tuple[Invalid, ...] = ()
    unmodelled: tuple[Unmodelled, ...] = ()
    cni: str = "upstream"
    cni_why: str = ""
    pod_labels: PodLabels | None = dataclasses.field(default=None, compare=False, repr=False)
    """The label map selectors see for a pod, when a layer defines one (Calico adds its
    namespace, service-account and address labels); None: the pod's own labels."""

    def labels_of(
        self, namespace: str, own: Mapping[str, str], obj: Mapping[str, Any] | None
    ) -> Mapping[str, str]:
        """What every selector of this program matches for a pod (namespace, labels, object)."""
        return own if self.pod_labels is None else self.pod_labels(namespace, own, obj)

    def policies(self) -> Iterator[Policy]:
        for tier in self.tiers:
            yield from tier.policies

    def rules(self) -> Iterator[Rule]:
        for policy in self.policies():
            yield from policy.ingress
            yield from policy.egress

    def terms(self) -> Iterator[Term]:
        for policy in self.policies():
            yield policy.subject
        for rule in self.rules():
            yield from rule.peers or ()

    def unmodelled_for(self, namespaces: Sequence[str]) -> tuple[Unmodelled, ...]:
        """Unmodelled objects that could affect a flow touching these namespaces."""
        return tuple(u for u in self.unmodelled if not u.namespace or u.namespace in namespaces)


IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def address(text: str | None) -> IP | None:
    """The address, or None for a podIP/hostIP that is none (a hand-made bundle's "x")."""
    try:
        return ipaddress.ip_address(text or "")
    except ValueError:
        return None


def resource(kind: str, group: str = "") -> str:
    """What kubectl calls a kind: 'adminnetworkpolicies.policy.networking.k8s.io'."""
    lower = kind.lower()
    plural = f"{lower[:-1]}ies" if lower.endswith("y") else f"{lower}s"
    return f"{plural}.{group}" if group else plural
