"""Calico as a layer: its tiers, in order, compiled into the one form (active under `--cni calico`).

Each Calico tier becomes a form tier (end: its defaultAction); policies keep Calico's order
(`order`, unset last, ties by name/namespace/kind). Kubernetes NetworkPolicies join the default
tier at order 1000, named ``knp.default.<name>`` for sorting, as Calico converts them, so this
layer replaces the plain NetworkPolicy layer. Rules keep their order: Allow, Deny, Pass; Log
rules do nothing and are left out; rules `rules` marks unmodelled are left out and listed.

A rule's other end (source for ingress, destination for egress) becomes terms of the form:
its selector matches selected endpoints (by the label map of `calico.endpoints`) or addresses in
selected network sets; `notSelector` excludes both; nets/notNets are address ranges. A rule's
own side (an ingress rule's destination, an egress rule's source) narrows the subject: such a
rule is compiled as a policy of its own, in place, whose subject is the policy's AND that side.
Destination ports, protocol and notProtocol become the rule's ports and not_ports.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator, Sequence

from paramedic.kube import objects
from paramedic.netpol import form, model, policies
from paramedic.netpol.calico import compose, endpoints, resources, rules, view
from paramedic.netpol.calico import selector as sel
from paramedic.netpol.layers import base, networkpolicy

Direction = model.Direction
LAYER_NAME = "calico"
KINDS = frozenset((group, kind) for group in resources.GROUPS for kind in resources.KINDS)
_PROTOCOLS = {6: "TCP", 17: "UDP", 132: "SCTP"}
_EVERYWHERE = (
    policies.IPBlock(cidr=ipaddress.ip_network("0.0.0.0/0")),
    policies.IPBlock(cidr=ipaddress.ip_network("::/0")),
)
_PLURALS = {
    "NetworkPolicy": "networkpolicies",
    "GlobalNetworkPolicy": "globalnetworkpolicies",
    "StagedNetworkPolicy": "stagednetworkpolicies",
    "StagedGlobalNetworkPolicy": "stagedglobalnetworkpolicies",
    "StagedKubernetesNetworkPolicy": "stagedkubernetesnetworkpolicies",
    "HostEndpoint": "hostendpoints",
}


def kind_of(policy: resources.Policy) -> str:
    """How reports name a Calico policy's kind (namespaced ones by their API group)."""
    return policy.kind if policy.kind.startswith("Global") else f"{policy.kind}.projectcalico.org"


def compile_layer(ctx: base.Context) -> base.Output:
    calico = (
        view.of(ctx.view.evidence)
        if ctx.view.evidence is not None
        else view.assemble((), ctx.view.namespaces)
    )
    kube = networkpolicy.compile_layer(ctx)
    tiers = []
    for tier in calico.tiers:
        keyed = [
            (p.sort_key, i, c)
            for i, p in enumerate(calico.policies)
            if p.tier == tier.name and not p.host_only
            for c in _policy(calico, p)
        ]
        if tier.name == resources.DEFAULT_TIER:
            keyed += [
                ((resources.KUBERNETES_POLICY_ORDER, _kube_name(p)), -1, _in_default_tier(p))
                for t in kube.tiers
                for p in t.policies
            ]
        if not keyed:
            continue
        keyed.sort(key=lambda item: (item[0], item[1]))
        end = form.Action.PASS if tier.default_action is rules.Action.PASS else form.Action.DENY
        tiers.append(form.Tier.of(tier.name, LAYER_NAME, end, [c for _, _, c in keyed]))
    return base.Output(
        tiers=tuple(tiers),
        invalid=kube.invalid + tuple(_invalid(i) for i in calico.invalid),
        unmodelled=tuple(_unmodelled(u) for u in calico.unmodelled),
        pod_labels=lambda namespace, own, obj: endpoints.labels(calico, namespace, own, obj),
    )


def _kube_name(policy: form.Policy) -> str:
    return f"knp.default.{policy.name}/{policy.namespace}/KubernetesNetworkPolicy"


def _in_default_tier(policy: form.Policy) -> form.Policy:
    return dataclasses.replace(
        policy, tier=resources.DEFAULT_TIER, order=resources.KUBERNETES_POLICY_ORDER
    )


def _policy(calico: view.View, policy: resources.Policy) -> Iterator[form.Policy]:
    """The policy as one form policy, or as consecutive pieces when rules narrow the subject."""
    subject = _subject_term(policy, endpoints.Match(policy.subject))
    directions = frozenset(d for d in Direction if policy.applies(d))
    pieces: dict[Direction, list[tuple[endpoints.Match | None, form.Rule]]] = {}
    for which in directions:
        for rule in policy.rules(which):
            compiled = _rule(calico, policy, rule, which)
            if compiled is not None:
                own = rule.destination if which is Direction.INGRESS else rule.source
                pieces.setdefault(which, []).append((_narrowed(policy, own), compiled))
    if all(narrow is None for found in pieces.values() for narrow, _ in found):
        yield _form_policy(policy, subject, directions, pieces)
        return
    yield _form_policy(policy, subject, directions, {})  # keeps the subject selected by the tier
    for which, found in pieces.items():
        for narrow, compiled in found:
            term = subject if narrow is None else _subject_term(policy, narrow)
            yield _form_policy(policy, term, frozenset({which}), {which: [(None, compiled)]})


def _form_policy(
    policy: resources.Policy,
    subject: form.Term,
    directions: frozenset[Direction],
    pieces: dict[Direction, list[tuple[endpoints.Match | None, form.Rule]]],
) -> form.Policy:
    return form.Policy(
        kind=kind_of(policy),
        namespace=policy.namespace,
        name=policy.name,
        tier=policy.tier,
        order=policy.order,
        subject=subject,
        directions=directions,
        ingress=tuple(r for _, r in pieces.get(Direction.INGRESS, [])),
        egress=tuple(r for _, r in pieces.get(Direction.EGRESS, [])),
        source=policy,
    )


def _subject_term(policy: resources.Policy, match: endpoints.Match) -> form.Term:
    where = f" in namespace {policy.namespace}" if policy.namespace else ""
    return form.Term(
        key=f"calico|{policy.namespace}|{match.key}",
        text=f"endpoints {match.describe()}{where}",
        namespace=policy.namespace or None,
        pods=match,
    )


def _narrowed(policy: resources.Policy, own: rules.Entity) -> endpoints.Match | None:
    """The subject narrowed by the rule's own side, or None when that side is unrestricted."""
    positive = compose.entity_selector(own, policy.namespace)
    if positive is None and own.not_selector is None and own.nets is None and not own.not_nets:
        return None
    negated = sel.Selector(sel.Not(own.not_selector.root)) if own.not_selector else None
    return endpoints.Match(sel.conjoin(policy.subject, positive, negated), own.nets, own.not_nets)


def _rule(
    calico: view.View, policy: resources.Policy, rule: rules.Rule, which: Direction
) -> form.Rule | None:
    if rule.action is rules.Action.LOG or rule.unmodelled:
        return None
    protocols = _protocols(rule)
    if protocols == ():
        return None  # ICMP and the like: never a TCP/UDP/SCTP connection
    destination = rule.destination
    other = rule.source if which is Direction.INGRESS else destination
    return form.Rule(
        action=form.Action(str(rule.action)),
        peers=_peers(calico, other, policy.namespace),
        ports=_ports(destination.ports, protocols),
        not_ports=_specs(destination.not_ports, protocols),
        index=rule.index,
        label=f"{which} rule {rule.index}",
    )


def _protocols(rule: rules.Rule) -> tuple[str, ...] | None:
    """The flow protocols the rule admits (None: any)."""
    if rule.protocol is not None:
        return (_PROTOCOLS[rule.protocol],) if rule.protocol in _PROTOCOLS else ()
    if rule.not_protocol is not None:
        return tuple(p for n, p in _PROTOCOLS.items() if n != rule.not_protocol)
    return None


def _ports(
    found: Sequence[rules.PortMatch] | None, protocols: tuple[str, ...] | None
) -> tuple[policies.PortSpec, ...] | None:
    """The rule's ports (None: any port of any protocol; an empty `ports` list means unset)."""
    if not found:
        return (
            None
            if protocols is None
            else tuple(policies.PortSpec(protocol=p, port=None) for p in protocols)
        )
    return _specs(found, protocols)


def _specs(
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


def _peers(calico: view.View, entity: rules.Entity, namespace: str) -> tuple[form.Term, ...] | None:
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
        excluded += tuple(policies.IPBlock(cidr=n) for n in _set_nets(calico, negative))
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
    terms = [_term(text, pods=endpoints.Match(chosen), nets=nets, not_nets=excluded)]
    in_sets = tuple(policies.IPBlock(cidr=n) for n in _set_nets(calico, positive))
    if in_sets:
        narrowed = in_sets if nets is None else _intersect(in_sets, nets)
        if narrowed:
            not_pods = _addresses(calico, negative) if negative is not None else ()
            terms.append(_term(text, nets=narrowed, not_nets=excluded + not_pods))
    return tuple(terms)


def _term(
    text: str,
    *,
    pods: endpoints.Match | None = None,
    nets: tuple[policies.IPBlock, ...] | None = None,
    not_nets: tuple[policies.IPBlock, ...] = (),
) -> form.Term:
    key = "|".join(
        (
            "calico",
            pods.key if pods is not None else "-",
            "-" if nets is None else ",".join(b.describe() for b in nets),
            ",".join(b.describe() for b in not_nets),
        )
    )
    return form.Term(key=key, text=text, pods=pods, nets=nets, not_nets=not_nets)


def _set_nets(calico: view.View, selector: sel.Selector) -> tuple[rules.Network, ...]:
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


def _invalid(item: resources.Invalid) -> form.Invalid:
    return form.Invalid(
        kind=item.kind, namespace=item.namespace, name=item.name, problems=item.problems
    )


def _unmodelled(item: view.Unmodelled) -> model.Unmodelled:
    group = item.api_version.rpartition("/")[0]
    plural = _PLURALS.get(item.kind, item.kind.lower() + "s")
    where = f" -n {item.namespace}" if item.namespace else ""
    return model.Unmodelled(
        kind=item.kind,
        api_version=item.api_version,
        namespace=item.namespace,
        name=item.name,
        why=f"{item.rule}: {item.reason}" if item.rule else item.reason,
        command=f"kubectl get {plural}.{group}{where} {item.name} -o yaml",
    )


LAYERS = (
    base.Layer(
        name=LAYER_NAME,
        stage=base.CNI,
        kinds=KINDS,
        compile=compile_layer,
        cni="calico",
        replaces=frozenset({networkpolicy.LAYER_NAME}),
    ),
)
