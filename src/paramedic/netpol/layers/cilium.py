"""Cilium as a layer: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and Kubernetes
NetworkPolicies on a Cilium cluster, compiled into the one form (active under `--cni cilium`).

Cilium decides one direction of a flow for an endpoint like this (its policy reference: deny
policies, the default-deny posture; its policy engine's own step-by-step simulator):

    1. a deny rule of any policy selecting the endpoint that matches the peer and port: denied
       (deny before allow, whatever kind of policy allows);
    2. an allow rule of any policy selecting it (CNP, CCNP or Kubernetes NetworkPolicy, in no
       order: they are a union): allowed;
    3. otherwise denied when a policy selecting it switched default deny on for the direction
       (it has rules of that direction, or `enableDefaultDeny` says so), else allowed.

As tiers (`form`): `cilium-deny` (every deny rule; end Pass), `cilium-allow` (allow rules of
policies that leave default deny off; end Pass), `cilium` (the rest and every Kubernetes
NetworkPolicy; end Deny = isolation). This layer therefore replaces the NetworkPolicy layer.
Selectors see Cilium's endpoint labels (`cilium.labels`). Rules with nothing evaluable (FQDN,
Service or group peers, ICMP only) are left out; every part not evaluated is listed in
`unmodelled` with why, so a flow it could touch is inconclusive, never ruled out.
"""

from __future__ import annotations

from paramedic.netpol import form, model
from paramedic.netpol.cilium import labels, rules, terms
from paramedic.netpol.layers import base, networkpolicy

LAYER_NAME = "cilium"
DENY_TIER, ALLOW_TIER, TIER = "cilium-deny", "cilium-allow", "cilium"
KINDS = frozenset({(rules.GROUP, rules.CNP), (rules.GROUP, rules.CCNP)})
Direction = model.Direction


def compile_layer(ctx: base.Context) -> base.Output:
    kube = networkpolicy.compile_layer(ctx)
    context = terms.Context.of(ctx.view)
    tiers: dict[str, list[form.Policy]] = {DENY_TIER: [], ALLOW_TIER: [], TIER: []}
    invalid: list[form.Invalid] = list(kube.invalid)
    unknown: list[form.Unmodelled] = []
    for kind in (rules.CCNP, rules.CNP):
        for obj in sorted(ctx.view.objects(kind), key=_sort_key):
            if not rules.is_cilium(obj):
                continue
            parsed = rules.parse(obj)
            if parsed.invalid is not None:
                invalid.append(parsed.invalid)
                continue
            notes = list(parsed.notes)
            for spec in parsed.specs:
                if spec.host:
                    continue
                for tier, policy in _pieces(context, spec, notes):
                    tiers[tier].append(policy)
            unknown += (_unmodelled(obj, note) for note in dict.fromkeys(notes))
    tiers[TIER] += [p for t in kube.tiers for p in t.policies]
    ends = {DENY_TIER: form.Action.PASS, ALLOW_TIER: form.Action.PASS, TIER: form.Action.DENY}
    return base.Output(
        tiers=tuple(
            form.Tier.of(name, LAYER_NAME, ends[name], chosen)
            for name, chosen in tiers.items()
            if chosen or name == TIER
        ),
        invalid=tuple(invalid),
        unmodelled=tuple(unknown),
        pod_labels=lambda namespace, own, obj: labels.endpoint_labels(
            ctx.view.namespace_labels, namespace, own, obj
        ),
    )


def _sort_key(obj: object) -> tuple[str, str]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _pieces(
    ctx: terms.Context, spec: rules.Spec, notes: list[str]
) -> list[tuple[str, form.Policy]]:
    """The spec as (tier, policy) pieces: its deny rules, its allow rules by posture."""
    subject = terms.subject(spec)
    compiled: dict[tuple[bool, Direction], list[form.Rule]] = {}
    for rule in spec.rules:
        peers, found = terms.peers(ctx, spec, rule)
        notes.extend(found)
        if peers == () or rule.ports == ():
            continue  # selects no peer, or only ICMP: never this connection
        prefix = "" if spec.index is None else f"{spec.path}."
        compiled.setdefault((rule.deny, rule.direction), []).append(
            form.Rule(
                action=form.Action.DENY if rule.deny else form.Action.ALLOW,
                peers=peers,
                ports=rule.ports,
                index=rule.index,
                label=f"{prefix}{rule.label}",
            )
        )
    out = []
    denied = {d for (deny, d) in compiled if deny}
    if denied:
        out.append((DENY_TIER, _policy(spec, subject, denied, compiled, DENY_TIER)))
    if spec.default_deny:
        out.append((TIER, _policy(spec, subject, set(spec.default_deny), compiled, TIER)))
    loose = {d for (deny, d) in compiled if not deny and d not in spec.default_deny}
    if loose:
        out.append((ALLOW_TIER, _policy(spec, subject, loose, compiled, ALLOW_TIER)))
    return out


def _policy(
    spec: rules.Spec,
    subject: form.Term,
    directions: set[Direction],
    compiled: dict[tuple[bool, Direction], list[form.Rule]],
    tier: str,
) -> form.Policy:
    deny = tier == DENY_TIER

    def chosen(direction: Direction) -> tuple[form.Rule, ...]:
        if direction not in directions:
            return ()
        return tuple(compiled.get((deny, direction), ()))

    return form.Policy(
        kind=spec.kind,
        namespace=spec.namespace,
        name=spec.name,
        tier=tier,
        order=None,
        subject=subject,
        directions=frozenset(directions),
        ingress=chosen(Direction.INGRESS),
        egress=chosen(Direction.EGRESS),
        source=spec,
    )


def _unmodelled(obj: object, note: str) -> form.Unmodelled:
    assert isinstance(obj, dict)
    kind = str(obj.get("kind"))
    namespace, name = _sort_key(obj)
    namespace = namespace if kind == rules.CNP else ""
    where = f" -n {namespace}" if namespace else ""
    return form.Unmodelled(
        kind=kind,
        api_version=str(obj.get("apiVersion") or ""),
        namespace=namespace,
        name=name,
        why=note,
        command=f"kubectl get {form.resource(kind, rules.GROUP)} {name}{where} -o yaml",
    )


LAYERS = (
    base.Layer(
        name=LAYER_NAME,
        stage=base.CNI,
        kinds=KINDS | networkpolicy.LAYERS[0].kinds,
        compile=compile_layer,
        cni="cilium",
        replaces=frozenset({networkpolicy.LAYER_NAME}),
    ),
)
