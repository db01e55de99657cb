"""The compiled form's evaluation for many subjects at once, each over a whole set of other ends.

A subject (a class of pods) is decided by the sequence of policies selecting it, in path order
(`form` says how: each enforcement point's tiers in turn, rule by rule, Allow/Deny/Pass taking
their matches out of the undecided set, a tier's end applying to what its selecting policies
left undecided). Here the walk is a state machine over that sequence, one policy per step:

    state = (point, tier, undecided, allowed, passed)

so subjects whose sequences share a prefix share the states along it. `walk_all` visits the
distinct sequences in sorted order, keeping only the states of the current one on a stack: each
prefix is walked once (the cluster-wide policies every subject meets first are not walked again
for each of them), with memory for one sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

from paramedic.netpol import form, model

Chosen = Sequence[tuple[int, form.Policy]]
"""(tier index, policy) of every policy selecting a subject, in path order."""
State = tuple[str | None, int, int, int, int]
"""(enforcement point, tier index, undecided, allowed, passed)."""


def walk_all(
    tiers: Sequence[form.Tier],
    subjects: Mapping[Hashable, Chosen],
    which: model.Direction,
    full: int,
    rule_bits: Callable[[form.Rule], int],
) -> dict[Hashable, int]:
    """Per subject: the other ends (as bits of `full`) allowed for direction `which`, where
    `rule_bits(rule)` are the other ends a rule matches."""
    position: dict[int, int] = {}
    for tier in tiers:
        for policy in tier.policies:
            position.setdefault(id(policy), len(position))
    sequences: dict[tuple[int, ...], list[Hashable]] = {}
    chosen_of: dict[tuple[int, ...], Chosen] = {}
    for subject, chosen in subjects.items():
        sig = tuple(position[id(p)] for _, p in chosen)
        sequences.setdefault(sig, []).append(subject)
        chosen_of.setdefault(sig, chosen)
    out: dict[Hashable, int] = {}
    stack: list[State] = [(None, -1, full, 0, 0)]
    previous: tuple[int, ...] = ()
    for sig in sorted(sequences):
        common = 0
        for a, b in zip(previous, sig, strict=False):
            if a != b:
                break
            common += 1
        del stack[common + 1 :]
        chosen = chosen_of[sig]
        for t, policy in chosen[common:]:
            stack.append(_step(tiers, stack[-1], t, policy, which, rule_bits))
        previous = sig
        allowed = _finish(tiers, stack[-1])
        for subject in sequences[sig]:
            out[subject] = allowed
    return out


def _step(
    tiers: Sequence[form.Tier],
    state: State,
    t: int,
    policy: form.Policy,
    which: model.Direction,
    rule_bits: Callable[[form.Rule], int],
) -> State:
    point, current, undecided, allowed, passed = state
    if t != current and current >= 0:  # the previous tier ends
        undecided = passed if tiers[current].end is form.Action.DENY else undecided | passed
        passed = 0
    if tiers[t].point != point:  # a new enforcement point sees what the previous one let by
        if point is not None:
            undecided, allowed = allowed | undecided, 0
        point = tiers[t].point
    if undecided:
        for rule in policy.rules(which):
            m = rule_bits(rule) & undecided
            if not m:
                continue
            undecided &= ~m
            if rule.action is form.Action.ALLOW:
                allowed |= m
            elif rule.action is form.Action.PASS:
                passed |= m
            if not undecided:
                break
    return point, t, undecided, allowed, passed


def _finish(tiers: Sequence[form.Tier], state: State) -> int:
    _, current, undecided, allowed, passed = state
    if current >= 0:
        undecided = passed if tiers[current].end is form.Action.DENY else undecided | passed
    return allowed | undecided
