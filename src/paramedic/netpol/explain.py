"""The per-pair evaluator of the compiled form, with an explanation per direction (the oracle).

It walks `form.Program` exactly as `form` states it, one flow at a time, so it is the reference
the all-pairs engine (`fast`) is tested against. Before any tier:

1. a pod may always reach itself (switch: self_always_allowed);
2. ingress from the destination's own node is always allowed (switch: node_to_pod_allowed);
3. only a pod on the pod network is a policy subject: an address outside it, a hostNetwork pod
   (node traffic) is never isolated.

Then each direction walks the tiers for its subject (the source for egress, the destination for
ingress): the first rule whose peers match the other end and whose ports admit the flow decides
(Allow, Deny, or Pass to the next tier); a tier that selected the subject and decided nothing
applies its end (NetworkPolicy: Deny, i.e. isolation); nothing decided: allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from paramedic.netpol import cluster, form, layers, matching, model, peers, policies
from paramedic.netpol.layers import networkpolicy

Direction = model.Direction
Action = form.Action


def flow(
    view: cluster.Cluster,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    semantics: model.Semantics = model.DEFAULT,
) -> model.FlowResult:
    program = layers.program(view, semantics.cni)
    src, dst = as_seen(program, src), as_seen(program, dst)
    egress = direction(view, Direction.EGRESS, src, dst, port, protocol, semantics)
    ingress = direction(view, Direction.INGRESS, src, dst, port, protocol, semantics)
    invalid = tuple(
        i.describe()
        for subject in (src, dst)
        if subject.kind == "pod"
        for i in program.invalid
        if i.namespace in ("", subject.namespace)
        and (i.subject is None or matching.subject_matches(view, i.subject, subject))
    )
    touched = [p.namespace for p in (src, dst) if p.kind == "pod"]
    return model.FlowResult(
        src=src.ref,
        dst=dst.ref,
        port=port,
        protocol=protocol,
        allowed=egress.allowed and ingress.allowed,
        egress=egress,
        ingress=ingress,
        invalid=tuple(dict.fromkeys(invalid)),
        semantics=semantics.describe(),
        layers=layer_entries(program, egress, ingress),
        unmodelled=program.unmodelled_for(touched),
    )


def as_seen(program: form.Program, peer: peers.Peer) -> peers.Peer:
    """The peer with the labels the program's selectors see (a layer may add some)."""
    if program.pod_labels is None or peer.kind != "pod":
        return peer
    seen = program.labels_of(peer.namespace, peer.labels, peer.obj)
    return dataclasses.replace(peer, labels=seen)


def direction(
    view: cluster.Cluster,
    which: Direction,
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    semantics: model.Semantics,
) -> model.DirectionResult:
    program = layers.program(view, semantics.cni)
    subject, other = (src, dst) if which is Direction.EGRESS else (dst, src)
    refs = tuple(
        p.ref
        for t in program.tiers
        if t.isolating
        for p in matching.selecting(view, t, subject, which)
    )
    before = _before_tiers(which, src, dst, subject, refs, semantics)
    if before is not None:
        return before
    steps: list[model.Step] = []
    near: list[str] = []
    allowed_at: list[tuple[form.Policy, form.Rule, str]] = []
    done_point: str | None = None
    for tier in program.tiers:
        if tier.point == done_point:
            continue  # an Allow decided for this enforcement point; the next point still counts
        chosen = matching.selecting(view, tier, subject, which)
        if not chosen:
            continue
        hit = _first_match(view, chosen, which, other, (dst, port, protocol), semantics, near)
        if hit is not None:
            policy, rule = hit
            decision = _decision(tier, policy, rule.label, rule.action, rule.index)
            if rule.action is Action.PASS:
                steps.append(_step(tier, "pass", decision, f"passed by {decision.describe()}"))
                continue
            allowed = rule.action is Action.ALLOW
            reason = (
                f"{'allowed' if allowed else 'denied'} by {policy.ref} {rule.label}"
                if policy.order is None and allowed
                else f"{'allowed' if allowed else 'denied'} by {decision.describe()}"
            )
            steps.append(_step(tier, "allow" if allowed else "deny", decision, reason))
            if allowed:
                allowed_at.append((policy, rule, reason))
                done_point = tier.point
                continue
            return _denied(which, bool(refs), refs, reason, near, decision, steps)
        if tier.end is Action.PASS:
            steps.append(_step(tier, "pass", None, f"no rule of tier {tier.name} matched"))
            continue
        end = _decision(tier, chosen[0], "end of tier", Action.DENY)
        reason = _end_reason(subject, other, which, chosen, near)
        steps.append(_step(tier, "deny", end, reason))
        return _denied(which, True, refs, reason, near, end, steps)
    return _not_denied(which, subject, refs, allowed_at, steps)


def _before_tiers(
    which: Direction,
    src: peers.Peer,
    dst: peers.Peer,
    subject: peers.Peer,
    refs: tuple[str, ...],
    semantics: model.Semantics,
) -> model.DirectionResult | None:
    """The result decided before any tier (a pod to itself, a node to its pods, a subject off
    the pod network), or None: the tiers decide."""
    always = _always_allowed(which, src, dst, semantics)
    if always is not None:
        return model.DirectionResult(
            direction=which, allowed=True, isolated=bool(refs), policies=refs, reason=always
        )
    if subject.selectable:
        return None
    why = (
        "is outside the pod network"
        if subject.kind == "ip"
        else "uses the host network (its traffic is node traffic)"
    )
    return model.DirectionResult(
        direction=which,
        allowed=True,
        isolated=False,
        reason=f"{subject.describe()} {why}: no NetworkPolicy applies to its {which}",
    )


def _denied(
    which: Direction,
    isolated: bool,
    refs: tuple[str, ...],
    reason: str,
    near: list[str],
    decided_by: model.Decision,
    steps: list[model.Step],
) -> model.DirectionResult:
    return model.DirectionResult(
        direction=which,
        allowed=False,
        isolated=isolated,
        policies=refs,
        reason=reason,
        near_misses=tuple(near),
        decided_by=decided_by,
        steps=tuple(steps),
    )


def _not_denied(
    which: Direction,
    subject: peers.Peer,
    refs: tuple[str, ...],
    allowed_at: list[tuple[form.Policy, form.Rule, str]],
    steps: list[model.Step],
) -> model.DirectionResult:
    """Every tier walked and none denied: allowed by the first Allow met (then the others, one
    per enforcement point), or not isolated at all."""
    if allowed_at:
        policy, rule, _ = allowed_at[0]
        decided = next(s.decided_by for s in steps if s.outcome == "allow")
        return model.DirectionResult(
            direction=which,
            allowed=True,
            isolated=bool(refs),
            policies=refs,
            allowed_by=(policy.ref, rule.index),
            reason="; then ".join(r for _, _, r in allowed_at),
            decided_by=decided,
            steps=tuple(steps),
        )
    reason = (
        f"not isolated: no NetworkPolicy in namespace {subject.namespace} selects pod "
        f"{subject.ref} for {which}"
    )
    passed = "; ".join(s.reason for s in steps)
    return model.DirectionResult(
        direction=which,
        allowed=True,
        isolated=False,
        policies=refs,
        reason=f"{passed}; {reason}" if passed else reason,
        steps=tuple(steps),
    )


def _first_match(
    view: cluster.Cluster,
    chosen: Sequence[form.Policy],
    which: Direction,
    other: peers.Peer,
    to: tuple[peers.Peer, int, str],
    semantics: model.Semantics,
    near: list[str],
) -> tuple[form.Policy, form.Rule] | None:
    """The first rule, policies and rules in order, whose peers include `other` and whose ports
    admit `to` (destination, port, protocol); a rule that names the peer but not the port is
    added to `near` (the near misses the report shows)."""
    dst, port, protocol = to
    for policy in chosen:
        for rule in policy.rules(which):
            if not matching.rule_peers_match(view, rule, other, semantics):
                continue
            verdict = matching.rule_ports_match(rule, dst, port, protocol)
            if verdict is True:
                return policy, rule
            near.append(f"{policy.ref} {rule.label} selects {other.describe()} but {verdict}")
    return None


def _decision(
    tier: form.Tier, policy: form.Policy, rule: str, action: Action, index: int | None = None
) -> model.Decision:
    return model.Decision(
        index=index,
        layer=tier.layer,
        tier=tier.name,
        kind=policy.kind,
        namespace=policy.namespace,
        name=policy.name,
        order=policy.order,
        rule=rule,
        action=str(action),
    )


def _step(
    tier: form.Tier, outcome: str, decision: model.Decision | None, reason: str
) -> model.Step:
    return model.Step(layer=tier.layer, outcome=outcome, decided_by=decision, reason=reason)


def _end_reason(
    subject: peers.Peer,
    other: peers.Peer,
    which: Direction,
    chosen: Sequence[form.Policy],
    near: Sequence[str],
) -> str:
    word = str(which)
    names = ", ".join(p.ref for p in chosen)
    if near:
        return f"{subject.describe()} is isolated for {word} by {names}; " + "; ".join(near)
    if not any(p.rules(which) for p in chosen):
        return (
            f"{subject.describe()} is isolated for {word} by {names}, which allow no {word} at all"
        )
    peer_word = "destination" if which is Direction.EGRESS else "source"
    rules = "; ".join(describe_rules(p, which) for p in chosen)
    return (
        f"{subject.describe()} is isolated for {word} by {names}; no {word} rule selects the "
        f"{peer_word} {other.describe()} (rules: {rules})"
    )


def layer_entries(
    program: form.Program, egress: model.DirectionResult, ingress: model.DirectionResult
) -> tuple[dict[str, object], ...]:
    """DESIGN.md §3 `layers`: per layer that saw the flow (either direction), in path order."""
    order = list(dict.fromkeys(t.layer for t in program.tiers))
    entries = []
    for layer in order:
        steps = [(d, s) for d in (egress, ingress) for s in d.steps if s.layer == layer]
        if not steps:
            continue
        denied = [(d, s) for d, s in steps if s.outcome == "deny"]
        deciding = denied or [(d, s) for d, s in steps if s.decided_by is not None]
        decided = deciding[0][1].decided_by if deciding else None
        entries.append(
            {
                "layer": layer,
                "allowed": not denied,
                "decided_by": decided.as_dict() if decided else None,
                "reason": "; ".join(f"{d.direction}: {s.reason}" for d, s in steps),
            }
        )
    return tuple(entries)


def _always_allowed(
    which: Direction, src: peers.Peer, dst: peers.Peer, semantics: model.Semantics
) -> str | None:
    """Why no policy can deny this side of the flow, if that is so."""
    if semantics.self_always_allowed and src.same_pod(dst):
        return "a pod may always reach itself"
    if (
        which is Direction.INGRESS
        and semantics.node_to_pod_allowed
        and matching.from_own_node(src, dst)
    ):
        return f"traffic from the pod's own node ({dst.node_ip}) is always allowed"
    return None


def describe_rules(policy: form.Policy | policies.Policy, which: Direction, limit: int = 3) -> str:
    """'NetworkPolicy app/x egress[0] to pods app=a in namespaces ... on TCP 6379' (short)."""
    if isinstance(policy, policies.Policy):
        policy = networkpolicy.compile_policy(policy)
    rules = policy.rules(which)
    if not rules:
        return f"{policy.ref} allows no {which}"
    word = "to" if which is Direction.EGRESS else "from"
    parts = []
    for rule in rules[:limit]:
        whom = "anywhere" if rule.peers is None else " or ".join(t.text for t in rule.peers)
        ports = "any port" if rule.ports is None else ", ".join(p.describe() for p in rule.ports)
        action = "" if rule.action is Action.ALLOW and policy.order is None else f" {rule.action}"
        parts.append(f"{rule.label}{action} {word} {whom} on {ports}")
    if len(rules) > limit:
        parts.append(f"and {len(rules) - limit} more")
    return f"{policy.ref}: " + ", ".join(parts)
