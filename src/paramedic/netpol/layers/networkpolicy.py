"""networking.k8s.io/v1 NetworkPolicy as one tier: Allow rules, end-of-tier Deny.

A pod that some policy of its namespace selects for a direction (its policyTypes) is isolated
for it: only what one of those policies' rules allows gets through, in any order (Allow rules
only, so order cannot matter). A pod no policy selects falls through to the next tier (baseline
admin policies, then Kubernetes' default allow). Parsing and API validation are `policies`.
"""

from __future__ import annotations

from paramedic.netpol import form, labelmatch, model, policies, validation
from paramedic.netpol.layers import base

KIND = "NetworkPolicy"
LAYER_NAME = "networkpolicy"
TIER = "networkpolicy"


_COMPILED: dict[int, tuple[policies.Policy, form.Policy]] = {}
"""Compiled policies by the identity of their parsed value: a patched view (cluster.adopt)
shares every unchanged parsed policy with its base, so recompiling it costs only the change."""
_COMPILED_LIMIT = 50_000


def compile_policy(policy: policies.Policy) -> form.Policy:
    cached = _COMPILED.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    if len(_COMPILED) > _COMPILED_LIMIT:
        _COMPILED.clear()
    compiled = _compile(policy)
    _COMPILED[id(policy)] = (policy, compiled)
    return compiled


def _compile(policy: policies.Policy) -> form.Policy:
    directions = frozenset(d for d in model.Direction if policy.isolates(d))
    subject = labelmatch.KubeSelector.of(policy.pod_selector, policy.selector_key)
    return form.Policy(
        kind=KIND,
        namespace=policy.namespace,
        name=policy.name,
        tier=TIER,
        order=None,
        subject=form.Term(
            key=f"{policy.namespace}|-|{policy.selector_key}",
            text=f"pods {subject.describe()} in namespace {policy.namespace}",
            namespace=policy.namespace,
            pods=subject,
        ),
        directions=directions,
        ingress=_rules(policy, model.Direction.INGRESS),
        egress=_rules(policy, model.Direction.EGRESS),
        source=policy,
    )


def _rules(policy: policies.Policy, which: model.Direction) -> tuple[form.Rule, ...]:
    return tuple(
        form.Rule(
            action=form.Action.ALLOW,
            peers=None
            if rule.peers is None
            else tuple(_term(spec, policy.namespace) for spec in rule.peers),
            ports=rule.ports,
            index=i,
            label=f"{which}[{i}]",
        )
        for i, rule in enumerate(policy.rules(which))
    )


_TEXT: dict[tuple[str, str], str] = {}
"""Peer descriptions by (canonical peer, policy namespace): thousands of policies share few."""


def _term(spec: policies.PeerSpec, namespace: str) -> form.Term:
    text = _TEXT.get((spec.key, namespace))
    if text is None:
        if len(_TEXT) > _COMPILED_LIMIT:
            _TEXT.clear()
        text = _TEXT[(spec.key, namespace)] = spec.describe(namespace)
    if spec.ip_block is not None:
        return form.Term(key=spec.key, text=text, nets=(spec.ip_block,))
    pods = (
        None
        if spec.pod_selector is None
        else labelmatch.KubeSelector.of(spec.pod_selector, spec.pod_key)
    )
    if spec.namespace_selector is None:
        return form.Term(key=f"{namespace}|{spec.key}", text=text, namespace=namespace, pods=pods)
    return form.Term(
        key=spec.key,
        text=text,
        namespaces=labelmatch.KubeSelector.of(spec.namespace_selector, spec.namespace_key),
        pods=pods,
    )


def _invalid(item: policies.Invalid) -> form.Invalid:
    """The invalid policy, with whom it would select when its podSelector itself is valid
    (otherwise it is reported for every pod of its namespace)."""
    subject = None
    if item.pod_selector is not None and not validation.selector_problems(item.pod_selector):
        subject = form.Term(
            key="",
            text="",
            namespace=item.namespace,
            pods=labelmatch.KubeSelector.of(item.pod_selector),
        )
    return form.Invalid(
        kind=KIND,
        namespace=item.namespace,
        name=item.name,
        problems=item.problems,
        subject=subject,
    )


def compile_layer(ctx: base.Context) -> base.Output:
    compiled = tuple(compile_policy(p) for p in ctx.view.policies)
    return base.Output(
        tiers=(form.Tier.of(TIER, LAYER_NAME, form.Action.DENY, compiled),),
        invalid=tuple(_invalid(i) for i in ctx.view.invalid),
    )


LAYERS = (
    base.Layer(
        name=LAYER_NAME,
        stage=base.CNI,
        kinds=frozenset({("networking.k8s.io", KIND)}),
        compile=compile_layer,
    ),
)
