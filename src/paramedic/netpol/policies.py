"""Parse and validate networking.k8s.io/v1 NetworkPolicy objects into normalised values.

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
import re
from collections.abc import Iterator, Mapping
from typing import Any

from paramedic.kube import objects, selectors
from paramedic.netpol import model

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


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


def parse(obj: Mapping[str, Any]) -> Policy | Invalid:
    """One NetworkPolicy object -> a normalised Policy, or Invalid with every problem found."""
    problems: list[str] = []
    spec = objects.spec(obj)
    raw_selector = spec.get("podSelector", {})
    pod_selector = _selector(raw_selector, "spec.podSelector", problems) or {}
    types = spec.get("policyTypes")
    ingress_raw, egress_raw = spec.get("ingress"), spec.get("egress")
    ingress_rules = _rules(ingress_raw, "spec.ingress", "from", problems)
    egress_rules = _rules(egress_raw, "spec.egress", "to", problems)
    if types is None or types == []:
        isolates_ingress, isolates_egress = True, bool(objects.as_list(egress_raw))
    elif not isinstance(types, list):
        problems.append("spec.policyTypes: must be a list")
        isolates_ingress = isolates_egress = False
    else:
        if len(types) > 2:
            problems.append("spec.policyTypes: may not specify more than two policyTypes")
        for i, t in enumerate(types):
            if t not in ("Ingress", "Egress"):
                problems.append(f"spec.policyTypes[{i}]: unsupported value {t!r} (Ingress, Egress)")
        isolates_ingress, isolates_egress = "Ingress" in types, "Egress" in types
    if not objects.name(obj):
        problems.append("metadata.name: required")
    if problems:
        return Invalid(
            namespace=objects.namespace(obj),
            name=objects.name(obj),
            problems=tuple(problems),
            pod_selector=raw_selector if isinstance(raw_selector, dict) else None,
        )
    return Policy(
        namespace=objects.namespace(obj) or "default",
        name=objects.name(obj),
        pod_selector=pod_selector,
        selector_key=selector_key(pod_selector),
        ingress=isolates_ingress,
        egress=isolates_egress,
        ingress_rules=ingress_rules,
        egress_rules=egress_rules,
        obj=obj,
    )


def selector_problems(raw: Any, where: str = "selector") -> list[str]:
    """What API validation would reject in a label selector (empty when it is valid)."""
    problems: list[str] = []
    _selector(raw, where, problems)
    return problems


def _selector(raw: Any, where: str, problems: list[str]) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a label selector mapping")
        return None
    if raw.get("matchLabels") is not None and not isinstance(raw.get("matchLabels"), dict):
        problems.append(f"{where}.matchLabels: must be a mapping")
        return None
    exprs = raw.get("matchExpressions")
    if exprs is not None and not (
        isinstance(exprs, list) and all(isinstance(e, dict) for e in exprs)
    ):
        problems.append(f"{where}.matchExpressions: must be a list of expressions")
        return None
    found = selectors.validate(raw, where=where)
    problems.extend(found)
    return None if found else raw


def _mappings(
    raw: Any, where: str, problems: list[str], *, what: str, null_is_empty: bool = False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each mapping in the list `raw` with its path, lazily (problems stay in document order)."""
    if not isinstance(raw, list):
        problems.append(f"{where}: must be {what}")
        return
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if item is None and null_is_empty:
            item = {}
        if not isinstance(item, dict):
            problems.append(f"{here}: must be a mapping")
            continue
        yield here, item


def _rules(raw: Any, where: str, peers_field: str, problems: list[str]) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    return tuple(
        Rule(
            peers=_peers(item.get(peers_field), f"{here}.{peers_field}", problems),
            ports=_ports(item.get("ports"), f"{here}.ports", problems),
        )
        for here, item in _mappings(
            raw, where, problems, what="a list of rules", null_is_empty=True
        )
    )


def _peers(raw: Any, where: str, problems: list[str]) -> tuple[PeerSpec, ...] | None:
    if raw is None or raw == []:
        return None
    found = (
        _peer(item, here, problems)
        for here, item in _mappings(raw, where, problems, what="a list of peers")
    )
    return tuple(peer for peer in found if peer is not None)


def _peer(item: dict[str, Any], here: str, problems: list[str]) -> PeerSpec | None:
    present = [
        k for k in ("podSelector", "namespaceSelector", "ipBlock") if item.get(k) is not None
    ]
    if not present:
        problems.append(f"{here}: must specify a peer (podSelector, namespaceSelector or ipBlock)")
        return None
    if "ipBlock" in present and len(present) > 1:
        problems.append(f"{here}: may not specify both ipBlock and another peer")
        return None
    if "ipBlock" in present:
        block = _ip_block(item["ipBlock"], f"{here}.ipBlock", problems)
        return None if block is None else PeerSpec(ip_block=block, key=f"ip:{block.describe()}")
    pod = _selector(item.get("podSelector"), f"{here}.podSelector", problems)
    ns = _selector(item.get("namespaceSelector"), f"{here}.namespaceSelector", problems)
    if (item.get("podSelector") is not None and pod is None) or (
        item.get("namespaceSelector") is not None and ns is None
    ):
        return None
    return PeerSpec(
        pod_selector=pod,
        namespace_selector=ns,
        key=f"{selector_key(ns)}|{selector_key(pod)}",
        namespace_key=selector_key(ns),
        pod_key=selector_key(pod),
    )


def _ip_block(raw: Any, where: str, problems: list[str]) -> IPBlock | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    cidr = network(raw.get("cidr"), f"{where}.cidr", problems)
    if cidr is None:
        return None
    excepts = []
    raw_except = raw.get("except")
    if raw_except is not None and not isinstance(raw_except, list):
        problems.append(f"{where}.except: must be a list of CIDRs")
        return None
    for i, text in enumerate(objects.as_list(raw_except)):
        net = network(text, f"{where}.except[{i}]", problems)
        if net is None:
            return None
        strict_subset = (
            net.version == cidr.version
            and net.network_address in cidr
            and net.prefixlen > cidr.prefixlen
        )
        if not strict_subset:
            problems.append(
                f"{where}.except[{i}]: {text} must be a strict subset of cidr {raw.get('cidr')}"
            )
            return None
        excepts.append(net)
    return IPBlock(cidr=cidr, excepts=tuple(excepts))


def network(text: Any, where: str, problems: list[str]) -> Network | None:
    if not isinstance(text, str) or not text:
        problems.append(f"{where}: required (a CIDR such as 10.0.0.0/16)")
        return None
    if "/" not in text:
        problems.append(f"{where}: {text!r} is not a CIDR (missing /prefix)")
        return None
    try:
        return ipaddress.ip_network(
            text.strip(), strict=False
        )  # host bits masked, as kube-proxy/CNIs do
    except ValueError:
        problems.append(f"{where}: {text!r} is not a valid CIDR")
        return None


def _ports(raw: Any, where: str, problems: list[str]) -> tuple[PortSpec, ...] | None:
    if raw is None or raw == []:
        return None
    found = (
        _port(item, here, problems)
        for here, item in _mappings(raw, where, problems, what="a list", null_is_empty=True)
    )
    return tuple(port for port in found if port is not None)


def _port(item: dict[str, Any], here: str, problems: list[str]) -> PortSpec | None:
    protocol = item.get("protocol") or "TCP"
    if protocol not in model.PROTOCOLS:
        problems.append(f"{here}.protocol: unsupported value {protocol!r} (TCP, UDP, SCTP)")
        return None
    port, end = item.get("port"), item.get("endPort")
    if isinstance(port, bool) or (port is not None and not isinstance(port, int | str)):
        problems.append(f"{here}.port: must be a number or a port name")
        return None
    if isinstance(port, int) and not 1 <= port <= 65535:
        problems.append(f"{here}.port: {port} must be between 1 and 65535")
        return None
    if isinstance(port, str) and not _valid_port_name(port):
        problems.append(f"{here}.port: {port!r} is not a valid port name (IANA_SVC_NAME)")
        return None
    if end is not None:
        if isinstance(end, bool) or not isinstance(end, int):
            problems.append(f"{here}.endPort: must be a number")
            return None
        if not isinstance(port, int):
            problems.append(f"{here}.endPort: may only be set with a numeric port")
            return None
        if end < port or end > 65535:
            problems.append(f"{here}.endPort: {end} must be >= port {port} and <= 65535")
            return None
    return PortSpec(protocol=protocol, port=port, end_port=end)


def _valid_port_name(name: str) -> bool:
    return (
        len(name) <= 15
        and bool(_IANA_SVC_NAME.match(name))
        and "--" not in name
        and any(c.isalpha() for c in name)
    )
