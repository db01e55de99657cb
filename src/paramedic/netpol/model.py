"""The engine's values: semantics switches and per-direction, per-flow answers.

A `FlowResult` always explains itself: for each direction, whether the side is isolated, by
which policies, which rule allowed the traffic (policy ref, rule index), or why none did.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


def object_ref(kind: str, namespace: str, name: str) -> str:
    """'NetworkPolicy app/x', or 'AdminNetworkPolicy x' for a cluster-scoped object."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


class Protocol(enum.StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


PROTOCOLS = tuple(p.value for p in Protocol)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Semantics:
    """The points where CNIs differ. The defaults are upstream conformance (DESIGN.md §3)."""

    ipblock_matches_pods: bool = True
    """An ipBlock also matches pod IPs (upstream). Cilium: False (ipBlock never matches pods)."""
    ipblock_matches_nodes: bool = True
    """An ipBlock also matches node IPs (node sources, hostNetwork pods). Cilium: False (its CIDR
    rules skip cluster nodes unless policy-cidr-match-mode=nodes)."""
    self_always_allowed: bool = True
    """A pod may always reach itself, whatever the policies say."""
    node_to_pod_allowed: bool = True
    """Traffic from a pod's own node (its hostIP, hostNetwork pods there) is always allowed in."""
    cni: str = "upstream"
    """Whose own policy kinds are layers on the path (`netpol.layers`): upstream (none),
    calico, cilium. Kinds no active layer evaluates are reported as unmodelled."""

    def describe(self) -> str:
        for name, value in BY_NAME.items():
            if self == value:
                return name
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self))


DEFAULT = Semantics()
CILIUM = Semantics(ipblock_matches_pods=False, ipblock_matches_nodes=False, cni="cilium")
CALICO = Semantics(cni="calico")
BY_NAME = {"upstream": DEFAULT, "calico": CALICO, "cilium": CILIUM}


class Direction(enum.StrEnum):
    EGRESS = "egress"
    INGRESS = "ingress"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The rule (or end of tier) that decided one direction of a flow in one layer."""

    layer: str
    tier: str
    kind: str
    namespace: str
    name: str
    order: float | None
    rule: str
    """'egress[0]', 'ingress rule 1 "deny-db"', or 'end of tier' (nothing matched)."""
    action: str
    index: int | None = None
    """The rule's index in its policy's ingress/egress list (None: end of tier)."""

    @property
    def ref(self) -> str:
        return object_ref(self.kind, self.namespace, self.name)

    def describe(self) -> str:
        ref = (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind} {self.name}")
        )
        where = f", tier {self.tier}" if self.tier not in ("", self.layer) else ""
        order = (
            f", {_ORDER_WORD.get(self.layer, 'order')} {_number(self.order)}"
            if (self.order is not None)
            else ""
        )
        return f"{ref}{where}{order}, {self.rule}: {self.action}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace or None,
            "name": self.name,
            "tier": self.tier,
            "order": self.order,
            "rule": self.rule,
        }


_ORDER_WORD = {"admin": "priority", "baseline": "priority"}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What one layer did with one direction: allow, deny, pass (on to the next), or none
    (no policy of the layer selected the side)."""

    layer: str
    outcome: str
    decided_by: Decision | None = None
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Unmodelled:
    """A policy object present in the evidence that could affect flows but is not evaluated."""

    kind: str
    api_version: str
    namespace: str
    name: str
    why: str
    command: str
    """The command that shows it."""

    @property
    def ref(self) -> str:
        return object_ref(self.kind, self.namespace, self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "apiVersion": self.api_version,
            "namespace": self.namespace or None,
            "name": self.name,
            "why": self.why,
            "command": self.command,
        }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DirectionResult:
    """One side of a flow: the source's egress, or the destination's ingress."""

    direction: Direction
    allowed: bool
    isolated: bool
    policies: tuple[str, ...] = ()
    """Refs ('NetworkPolicy app/deny-all') of every policy isolating this side, sorted."""
    allowed_by: tuple[str, int] | None = None
    """(policy ref, rule index in spec.egress / spec.ingress) of the first rule that allowed it."""
    reason: str = ""
    near_misses: tuple[str, ...] = ()
    """Rules that select the peer but not the port/protocol (or whose named port is unresolved)."""
    decided_by: Decision | None = None
    steps: tuple[Step, ...] = ()
    """Each layer on the path for this direction, in order, up to the one that decided."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "isolated": self.isolated,
            "policies": list(self.policies),
            "allowed_by": (
                {"policy": self.allowed_by[0], "rule": self.allowed_by[1]}
                if self.allowed_by
                else None
            ),
            "reason": self.reason,
            "near_misses": list(self.near_misses),
        }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FlowResult:
    """Whether `src` may open a connection to `dst` on `port`/`protocol`, and why."""

    src: str
    dst: str
    port: int
    protocol: str
    allowed: bool
    egress: DirectionResult
    ingress: DirectionResult
    invalid: tuple[str, ...] = ()
    """Invalid policies (API validation) that would otherwise apply here: one line each.
    The API server rejects them, so they are not evaluated; they are reported, never hidden."""
    semantics: str = "upstream"
    layers: tuple[dict[str, Any], ...] = ()
    """DESIGN.md §3: one entry per layer that saw the flow, in evaluation order."""
    unmodelled: tuple[Unmodelled, ...] = ()
    """Policy objects that could affect this flow but are not evaluated."""

    @property
    def blocking(self) -> tuple[DirectionResult, ...]:
        """The side(s) that deny the flow (empty when allowed)."""
        return tuple(d for d in (self.egress, self.ingress) if not d.allowed)

    def summary(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        return f"{self.src} -> {self.dst} {self.protocol}/{self.port}: {verdict}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.src,
            "to": self.dst,
            "port": self.port,
            "protocol": self.protocol,
            "allowed": self.allowed,
            "egress": self.egress.as_dict(),
            "ingress": self.ingress.as_dict(),
            "invalid_policies": list(self.invalid),
            "semantics": self.semantics,
            "layers": [dict(entry) for entry in self.layers],
            "unmodelled": [u.as_dict() for u in self.unmodelled],
        }
