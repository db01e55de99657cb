"""The in-place alternatives of a NetworkPolicy fix: the same rule added to a policy the user
already has (the narrowest one isolating the side), or an Allow inserted before an admin- or
Calico-tier Deny; each as a JSON patch with its command and the number of flows it would open
(computed from the matrix before and after, as for the new policy).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, selectors
from paramedic.netpol import blast, cluster, peers
from paramedic.netpol import model as netpol_model


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InPlace:
    """The alternative: add the same rule to a policy that already isolates the side."""

    target: str
    patch: tuple[Mapping[str, Any], ...]
    command: str
    opened: int
    """How many flows this alternative would open (often more: its podSelector is wider)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "op": "patch",
            "target": self.target,
            "patch": [dict(p) for p in self.patch],
            "command": self.command,
            "opens_flows": self.opened,
        }


def key(o: Mapping[str, Any]) -> tuple[Any, ...]:
    return (o.get("apiVersion"), o.get("kind"), objects.namespace(o), objects.name(o))


def admin(
    evidence: evidence_model.Evidence,
    edit: tuple[Any, dict[str, Any], str, str],
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    port_value: int | str,
    semantics: netpol_model.Semantics,
) -> InPlace:
    """The admin- or Calico-tier alternative: the Allow rule inserted before the Deny, with
    its radius."""
    edited, op, command, ref = edit
    changed = edited if isinstance(edited, tuple) else (edited,)  # several pods: an injection
    by_key = {key(o): o for o in changed}
    patched = evidence_model.Evidence.of(tuple(by_key.get(key(o), o) for o in evidence.objects))
    if not any(o.get("kind") == "Pod" for o in changed):
        cluster.adopt(patched, evidence)  # no NetworkPolicy changed: reuse the parsed view
    opened, _ = blast.diff(evidence, patched, src, dst, port, protocol, port_value, semantics)
    return InPlace(target=ref, patch=(op,), command=command, opened=len(opened))


def rules(
    evidence: evidence_model.Evidence,
    edits: list[tuple[str, str, dict[str, Any]]],
    src: peers.Peer,
    dst: peers.Peer,
    port: int,
    protocol: str,
    port_value: int | str,
    semantics: netpol_model.Semantics,
) -> tuple[InPlace, ...]:
    """One JSON patch per (policy ref, field, rule); `opened` counts all of them applied together
    (each blocking side needs its own edit for the flow to pass)."""
    edited: dict[str, dict[str, Any]] = {}
    found = []
    for ref, field, rule in edits:
        ns, _, name = ref.removeprefix("NetworkPolicy ").partition("/")
        target = evidence.get("NetworkPolicy", ns, name)
        assert target is not None
        obj = edited.setdefault(ref, copy.deepcopy(dict(target)))
        if not isinstance(obj.get("spec"), dict):
            obj["spec"] = {}  # a null spec in a hand-made bundle
        spec = obj["spec"]
        has_list = isinstance(spec.get(field), list)
        op = (
            {"op": "add", "path": f"/spec/{field}/-", "value": rule}
            if has_list
            else {"op": "add", "path": f"/spec/{field}", "value": [rule]}
        )
        if not isinstance(spec.get(field), list):
            spec[field] = []
        spec[field].append(rule)
        command = f"kubectl -n {ns} patch networkpolicy {name} --type=json -p '{json.dumps([op])}'"
        found.append((ref, op, command))
    originals = {
        id(evidence.get("NetworkPolicy", *ref.removeprefix("NetworkPolicy ").split("/", 1))): obj
        for ref, obj in edited.items()
    }
    patched = evidence_model.Evidence.of(tuple(originals.get(id(o), o) for o in evidence.objects))
    removed = tuple(tuple(ref.removeprefix("NetworkPolicy ").split("/", 1)) for ref in edited)
    cluster.adopt(patched, evidence, added=tuple(edited.values()), removed=removed)  # type: ignore[arg-type]
    opened, _ = blast.diff(evidence, patched, src, dst, port, protocol, port_value, semantics)
    return tuple(
        InPlace(target=ref, patch=(op,), command=command, opened=len(opened))
        for ref, op, command in found
    )


def narrowest(evidence: evidence_model.Evidence, refs: Sequence[str]) -> str:
    """Of the isolating policies, the one selecting the fewest pods (its edit opens the least)."""

    def width(ref: str) -> tuple[int, bool, str]:
        ns, _, name = ref.removeprefix("NetworkPolicy ").partition("/")
        obj = evidence.get("NetworkPolicy", ns, name) or {}
        selector = objects.as_dict(objects.spec(obj).get("podSelector"))
        count = sum(
            1 for p in evidence.kind("Pod", ns) if selectors.matches(selector, objects.labels(p))
        )
        return count, not selector, ref

    return min(refs, key=width)
