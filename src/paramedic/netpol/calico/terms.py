"""A Calico rule's match criteria as parts of the compiled form: ports and peer terms.

Protocols and destination ports become `policies.PortSpec`s (an empty `ports` list means unset,
as in Calico). The other end of a rule becomes `form.Term`s whose union is what Calico admits:
its `selector` matches the selected endpoints (by their label map, `endpoints.Match`) or any
address inside a selected NetworkSet/GlobalNetworkSet (Calico's IP sets hold both); its
`notSelector` excludes both; `nets`/`notNets` are address ranges.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from paramedic.kube import objects
from paramedic.netpol import form, policies
from paramedic.netpol.calico import compose, endpoints, rules, view
from paramedic.netpol.calico import selector as sel

_PROTOCOLS = {6: "TCP", 17: "UDP", 132: "SCTP"}
_EVERYWHERE = (
    policies.IPBlock(cidr=ipaddress.ip_network("0.0.0.0/0")),
    policies.IPBlock(cidr=ipaddress.ip_network("::/0")),
)


def protocols(rule: rules.Rule) -> tuple[str, ...] | None:
    """The flow protocols the rule admits (None: any)."""
    if rule.protocol is not None:
        return (_PROTOCOLS[rule.protocol],) if rule.protocol in _PROTOCOLS else ()
    if rule.not_protocol is not None:
        return tuple(p for n, p in _PROTOCOLS.items() if n != rule.not_protocol)
    return None


def ports(
    found: Sequence[rules.PortMatch] | None, protocols: tuple[str, ...] | None
) -> tuple[policies.PortSpec, ...] | None:
    """The rule's ports (None: any port of any protocol; an empty `ports` list means unset)."""
    if not found:
        return (
            None
            if protocols is None
            else tuple(policies.PortSpec(protocol=p, port=None) for p in protocols)
        )
    return specs(found, protocols)


def specs(
    found: Sequence[rules.PortMatch], protocols: tuple[str, ...] | None
) -> tuple[policies.PortSpec, ...]:
    specs = []
    for port in found:
        for protocol in protocols if protocols is not None else (None,):
            if port.name:
                specs.append(policies.PortSpec(protocol=protocol, port=port.name))
            else:
                end = port.high if port.high != port.low else None
                specs.append(policies.PortSpec(protocol=protocol, port=port.low, end_port=end))
    return tuple(specs)


def peers(calico: view.View, entity: rules.Entity, namespace: str) -> tuple[form.Term, ...] | None:
    """Terms for the rule's other end (None: anywhere). Their union is what Calico's IP sets
    and CIDR matches admit for that entity."""
    positive = compose.entity_selector(entity, namespace)
    negative = entity.not_selector
    nets = tuple(policies.IPBlock(cidr=n) for n in entity.nets) if entity.nets is not None else None
    excluded = tuple(policies.IPBlock(cidr=n) for n in entity.not_nets)
    text = rules.describe_entity(entity)
    if positive is None and negative is None:
        if nets is None and not excluded:
            return None
        return (_term(text, nets=nets or _EVERYWHERE, not_nets=excluded),)
    if negative is not None:
        excluded += tuple(policies.IPBlock(cidr=n) for n in set_nets(calico, negative))
    if positive is None:  # notSelector alone: everything but what it selects
        assert negative is not None
        others = sel.Selector(sel.Not(negative.root))
        return (
            _term(text, pods=endpoints.Match(others), nets=nets, not_nets=excluded),
            _term(
                text,
                nets=nets or _EVERYWHERE,
                not_nets=excluded + _addresses(calico, negative),
            ),
        )
    chosen = (
        positive
        if negative is None
        else sel.conjoin(positive, sel.Selector(sel.Not(negative.root)))
    )
    scope = _scope(entity, namespace)
    terms = []
    if scope is not None:  # a namespaceSelector global() selects no pod
        terms.append(
            _term(text, pods=endpoints.Match(chosen), nets=nets, not_nets=excluded, **scope)
        )
    in_sets = tuple(policies.IPBlock(cidr=n) for n in set_nets(calico, positive))
    if in_sets:
        narrowed = in_sets if nets is None else _intersect(in_sets, nets)
        if narrowed:
            not_pods = _addresses(calico, negative) if negative is not None else ()
            terms.append(_term(text, nets=narrowed, not_nets=excluded + not_pods))
    return tuple(terms)


def _scope(entity: rules.Entity, namespace: str) -> dict[str, Any] | None:
    """Where the entity's endpoints can be (what the evaluators narrow by before any label
    test); None when no pod can match (namespaceSelector global())."""
    chosen = entity.namespace_selector
    if chosen is None:
        return {"namespace": namespace or None}
    if isinstance(chosen.root, sel.Global):
        return None
    if isinstance(chosen.root, sel.All):
        return {}
    return {"namespaces": endpoints.NamespaceMatch(chosen)}


def _term(
    text: str,
    *,
    pods: endpoints.Match | None = None,
    nets: tuple[policies.IPBlock, ...] | None = None,
    not_nets: tuple[policies.IPBlock, ...] = (),
    namespace: str | None = None,
    namespaces: endpoints.NamespaceMatch | None = None,
) -> form.Term:
    key = "|".join(
        (
            "calico",
            namespace or "-",
            namespaces.key if namespaces is not None else "-",
            pods.key if pods is not None else "-",
            "-" if nets is None else ",".join(b.describe() for b in nets),
            ",".join(b.describe() for b in not_nets),
        )
    )
    return form.Term(
        key=key,
        text=text,
        pods=pods,
        nets=nets,
        not_nets=not_nets,
        namespace=namespace,
        namespaces=namespaces,
    )


def set_nets(calico: view.View, selector: sel.Selector) -> tuple[rules.Network, ...]:
    """The nets of every NetworkSet/GlobalNetworkSet the selector selects."""
    return tuple(
        n for found, labels in calico.network_sets if selector.matches(labels) for n in found.nets
    )


def _addresses(calico: view.View, selector: sel.Selector) -> tuple[policies.IPBlock, ...]:
    """/32 (/128) blocks of the pods the selector selects (to keep them out of a range)."""
    found = []
    for pod in calico.pods:
        address = objects.status(pod).get("podIP")
        if address and selector.matches(calico.labels(pod)):
            found.append(policies.IPBlock(cidr=ipaddress.ip_network(str(address))))
    return tuple(found)


def _intersect(
    a: tuple[policies.IPBlock, ...], b: tuple[policies.IPBlock, ...]
) -> tuple[policies.IPBlock, ...]:
    found = []
    for x in a:
        for y in b:
            if x.cidr.version != y.cidr.version:
                continue
            if x.cidr.subnet_of(y.cidr):  # type: ignore[arg-type]
                found.append(x)
            elif y.cidr.subnet_of(x.cidr):  # type: ignore[arg-type]
                found.append(y)
    return tuple(found)
