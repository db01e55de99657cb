"""Parse and validate networking.k8s.io/v1 NetworkPolicy objects into `policies` values, as the
API server's ValidateNetworkPolicy would: a policy it would reject becomes `policies.Invalid`
with every problem found, never evaluated half-way; the rest is normalised as on create
(policyTypes defaulted, a missing podSelector read as {}, CIDR host bits masked).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from paramedic.kube import objects, selectors
from paramedic.netpol import model, policies

_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


def parse(obj: Mapping[str, Any]) -> policies.Policy | policies.Invalid:
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
        return policies.Invalid(
            namespace=objects.namespace(obj),
            name=objects.name(obj),
            problems=tuple(problems),
            pod_selector=raw_selector if isinstance(raw_selector, dict) else None,
        )
    return policies.Policy(
        namespace=objects.namespace(obj) or "default",
        name=objects.name(obj),
        pod_selector=pod_selector,
        selector_key=policies.selector_key(pod_selector),
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


def _rules(
    raw: Any, where: str, peers_field: str, problems: list[str]
) -> tuple[policies.Rule, ...]:
    if raw is None:
        return ()
    return tuple(
        policies.Rule(
            peers=_peers(item.get(peers_field), f"{here}.{peers_field}", problems),
            ports=_ports(item.get("ports"), f"{here}.ports", problems),
        )
        for here, item in _mappings(
            raw, where, problems, what="a list of rules", null_is_empty=True
        )
    )


def _peers(raw: Any, where: str, problems: list[str]) -> tuple[policies.PeerSpec, ...] | None:
    if raw is None or raw == []:
        return None
    found = (
        _peer(item, here, problems)
        for here, item in _mappings(raw, where, problems, what="a list of peers")
    )
    return tuple(peer for peer in found if peer is not None)


def _peer(item: dict[str, Any], here: str, problems: list[str]) -> policies.PeerSpec | None:
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
        return (
            None
            if block is None
            else policies.PeerSpec(ip_block=block, key=f"ip:{block.describe()}")
        )
    pod = _selector(item.get("podSelector"), f"{here}.podSelector", problems)
    ns = _selector(item.get("namespaceSelector"), f"{here}.namespaceSelector", problems)
    if (item.get("podSelector") is not None and pod is None) or (
        item.get("namespaceSelector") is not None and ns is None
    ):
        return None
    return policies.PeerSpec(
        pod_selector=pod,
        namespace_selector=ns,
        key=f"{policies.selector_key(ns)}|{policies.selector_key(pod)}",
        namespace_key=policies.selector_key(ns),
        pod_key=policies.selector_key(pod),
    )


def _ip_block(raw: Any, where: str, problems: list[str]) -> policies.IPBlock | None:
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
    return policies.IPBlock(cidr=cidr, excepts=tuple(excepts))


def network(text: Any, where: str, problems: list[str]) -> policies.Network | None:
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


def _ports(raw: Any, where: str, problems: list[str]) -> tuple[policies.PortSpec, ...] | None:
    if raw is None or raw == []:
        return None
    found = (
        _port(item, here, problems)
        for here, item in _mappings(raw, where, problems, what="a list", null_is_empty=True)
    )
    return tuple(port for port in found if port is not None)


def _port(item: dict[str, Any], here: str, problems: list[str]) -> policies.PortSpec | None:
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
    return policies.PortSpec(protocol=protocol, port=port, end_port=end)


def _valid_port_name(name: str) -> bool:
    return (
        len(name) <= 15
        and bool(_IANA_SVC_NAME.match(name))
        and "--" not in name
        and any(c.isalpha() for c in name)
    )
