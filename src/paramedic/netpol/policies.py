"""networking.k8s.io/v1 NetworkPolicy objects as normalised values (`Policy`, or `Invalid` with
every problem); `netpol.validation` parses and validates the objects into them.

Normalisation is what the API server does on create: `policyTypes` defaulted (Ingress always,
Egress only when spec.egress has rules), a missing podSelector decoded as {} , CIDRs with host
bits masked. Validation follows the API server's ValidateNetworkPolicy: a policy it would
reject is returned as `Invalid` with every problem, never evaluated half-way.

Empty vs missing: a missing or empty `ingress`/`egress` list means "no rule" (allow nothing);
a rule with a missing or empty `from`/`to` matches every peer, a missing or empty `ports`
matches every port and protocol (represented as None below).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from paramedic.kube import selectors
from paramedic.netpol import model

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class IPBlock:
    cidr: Network
    excepts: tuple[Network, ...] = ()

    def contains(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if address.version != self.cidr.version or address not in self.cidr:
            return False
        return not any(address in e for e in self.excepts)

    def describe(self) -> str:
        text = str(self.cidr)
        return f"{text} except {', '.join(map(str, self.excepts))}" if self.excepts else text


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PeerSpec:
    """One NetworkPolicyPeer: selectors (AND-ed when both are set) or an ipBlock."""

    pod_selector: Mapping[str, Any] | None = None
    namespace_selector: Mapping[str, Any] | None = None
    ip_block: IPBlock | None = None
    key: str = ""
    """Canonical text of the selectors, for caching equal peers."""
    namespace_key: str = "-"
    pod_key: str = "-"

    def describe(self, policy_namespace: str) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block.describe()}"
        pods = selectors.describe(self.pod_selector) if self.pod_selector is not None else None
        if self.namespace_selector is None:
            return f"pods {pods} in namespace {policy_namespace}"
        spaces = selectors.describe(self.namespace_selector)
        return f"pods {pods or '<all>'} in namespaces {spaces}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PortSpec:
    protocol: str | None = "TCP"
    """None: any protocol (an AdminNetworkPolicy namedPort takes the container port's)."""
    port: int | str | None = None
    end_port: int | None = None

    def matches_number(self, port: int, protocol: str) -> bool:
        """Whether a numeric (or absent) port entry admits `port`; named entries never do here."""
        if not self.admits_protocol(protocol) or isinstance(self.port, str):
            return False
        if self.port is None:
            return True
        if self.end_port is not None:
            return self.port <= port <= self.end_port
        return self.port == port

    def admits_protocol(self, protocol: str) -> bool:
        return self.protocol is None or self.protocol == protocol

    def describe(self) -> str:
        if self.protocol is None:
            return f"port {self.port!r}"
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return (
            f"{self.protocol} {self.port!r}"
            if isinstance(self.port, str)
            else f"{self.protocol} {self.port}"
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    peers: tuple[PeerSpec, ...] | None
    """None: every peer (the list was missing or empty)."""
    ports: tuple[PortSpec, ...] | None
    """None: every port and protocol."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    namespace: str
    name: str
    pod_selector: Mapping[str, Any]
    selector_key: str
    ingress: bool
    """Isolates selected pods for ingress (policyTypes contains Ingress)."""
    egress: bool
    ingress_rules: tuple[Rule, ...]
    egress_rules: tuple[Rule, ...]
    obj: Mapping[str, Any] = dataclasses.field(compare=False, repr=False)

    @property
    def ref(self) -> str:
        return f"NetworkPolicy {self.namespace}/{self.name}"

    def rules(self, direction: model.Direction) -> tuple[Rule, ...]:
        return self.egress_rules if direction is model.Direction.EGRESS else self.ingress_rules

    def isolates(self, direction: model.Direction) -> bool:
        return self.egress if direction is model.Direction.EGRESS else self.ingress


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    namespace: str
    name: str
    problems: tuple[str, ...]
    pod_selector: Mapping[str, Any] | None = None

    @property
    def ref(self) -> str:
        return f"NetworkPolicy {self.namespace}/{self.name}"

    def describe(self) -> str:
        return f"{self.ref} is invalid (the API server would reject it): {'; '.join(self.problems)}"


def selector_key(selector: Mapping[str, Any] | None) -> str:
    return "-" if selector is None else json.dumps(selector, sort_keys=True, default=str)
