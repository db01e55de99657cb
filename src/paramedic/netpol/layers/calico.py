"""Calico as a layer: its tiers, in order, compiled into the one form (active under `--cni calico`).

Each Calico tier becomes a form tier (end: its defaultAction); policies keep Calico's order
(`order`, unset last, ties by name/namespace/kind). Kubernetes NetworkPolicies join the default
tier at order 1000, named ``knp.default.<name>`` for sorting, as Calico converts them; the admin
and baseline tiers take Calico's places for them (tiers kube-admin at 1000 and kube-baseline at
10,000,000). So this layer replaces the NetworkPolicy, admin and baseline layers. Rules keep
their order: Allow, Deny, Pass; Log rules do nothing and are left out; rules `rules` marks
unmodelled are left out and listed.

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
from collections.abc import Iterator

from paramedic.netpol import form, model, policies
from paramedic.netpol.calico import compose, endpoints, resources, rules, terms, view
from paramedic.netpol.calico import selector as sel
from paramedic.netpol.layers import admin, base, networkpolicy

Direction = model.Direction
LAYER_NAME = "calico"
OWN_KINDS = frozenset((group, kind) for group in resources.GROUPS for kind in resources.KINDS)
_PROTOCOLS = {6: "TCP", 17: "UDP", 132: "SCTP"}
_EVERYWHERE = (
    policies.IPBlock(cidr=ipaddress.ip_network("0.0.0.0/0")),
    policies.IPBlock(cidr=ipaddress.ip_network("::/0")),
)


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
    placed: list[tuple[tuple[float, str], form.Tier]] = []
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
        compiled = form.Tier.of(tier.name, LAYER_NAME, end, [c for _, _, c in keyed])
        placed.append((tier.sort_key, compiled))
    outputs = [kube]
    for position, compile_tier in _ADMIN_TIERS:
        out = compile_tier(ctx)
        outputs.append(out)
        placed += [(position, t) for t in out.tiers]
    placed.sort(key=lambda item: item[0])
    return base.Output(
        tiers=tuple(t for _, t in placed),
        invalid=tuple(i for out in outputs for i in out.invalid)
        + tuple(_invalid(i) for i in calico.invalid),
        unmodelled=tuple(u for out in outputs for u in out.unmodelled)
        + tuple(_unmodelled(u) for u in calico.unmodelled),
        pod_labels=lambda namespace, own, obj: endpoints.labels(calico, namespace, own, obj),
    )


_ADMIN_TIERS = (
    ((1000.0, "kube-admin"), admin.compile_admin),
    ((10_000_000.0, "kube-baseline"), admin.compile_baseline),
)
"""Calico runs AdminNetworkPolicies in its tier kube-admin (order 1000) and baseline ones in
kube-baseline (order 10,000,000): a Calico tier of lower order comes before the admin tier."""


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
                narrow = _narrowed(calico, policy, own)
                pieces.setdefault(which, []).append((narrow, compiled))
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
    chosen = policy.namespace_selector
    spaces = None
    if chosen is not None and not isinstance(chosen.root, sel.All | sel.Global):
        spaces = endpoints.NamespaceMatch(chosen)
    return form.Term(
        key=f"calico|{policy.namespace}|{spaces.key if spaces else '-'}|{match.key}",
        text=f"endpoints {match.describe()}{where}",
        namespace=policy.namespace or None,
        namespaces=spaces,
        pods=match,
    )


def _narrowed(
    calico: view.View, policy: resources.Policy, own: rules.Entity
) -> endpoints.Match | None:
    """The subject narrowed by the rule's own side, or None when that side is unrestricted."""
    positive = compose.entity_selector(own, policy.namespace)
    negative = own.not_selector
    if positive is None and negative is None and own.nets is None and not own.not_nets:
        return None
    excluded = own.not_nets + (terms.set_nets(calico, negative) if negative else ())
    return endpoints.Match(
        positive or sel.Selector(sel.ALL),
        within=policy.subject,
        not_selector=negative,
        also=terms.set_nets(calico, positive) if positive is not None else (),
        nets=own.nets,
        not_nets=excluded,
    )


def _rule(
    calico: view.View, policy: resources.Policy, rule: rules.Rule, which: Direction
) -> form.Rule | None:
    if rule.action is rules.Action.LOG or rule.unmodelled:
        return None
    protocols = terms.protocols(rule)
    if protocols == ():
        return None  # ICMP and the like: never a TCP/UDP/SCTP connection
    destination = rule.destination
    other = rule.source if which is Direction.INGRESS else destination
    return form.Rule(
        action=form.Action(str(rule.action)),
        peers=terms.peers(calico, other, policy.namespace),
        ports=terms.ports(destination.ports, protocols),
        not_ports=terms.specs(destination.not_ports, protocols),
        index=rule.index,
        label=f"{which} rule {rule.index}",
    )


def _invalid(item: resources.Invalid) -> form.Invalid:
    return form.Invalid(
        kind=item.kind, namespace=item.namespace, name=item.name, problems=item.problems
    )


def _unmodelled(item: view.Unmodelled) -> model.Unmodelled:
    group = item.api_version.rpartition("/")[0]
    where = f" -n {item.namespace}" if item.namespace else ""
    return model.Unmodelled(
        kind=item.kind,
        api_version=item.api_version,
        namespace=item.namespace,
        name=item.name,
        why=f"{item.rule}: {item.reason}" if item.rule else item.reason,
        command=f"kubectl get {form.resource(item.kind, group)}{where} {item.name} -o yaml",
    )


LAYERS = (
    base.Layer(
        name=LAYER_NAME,
        stage=base.CNI,
        kinds=OWN_KINDS | networkpolicy.LAYERS[0].kinds | admin.KINDS,
        compile=compile_layer,
        cni="calico",
        replaces=frozenset({networkpolicy.LAYER_NAME, "admin", "baseline"}),
    ),
)
