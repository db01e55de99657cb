"""What `service-endpoints` says about a broken Service, and the exact fix for it.

- `selector_mismatch`: the pods whose labels differ least from the Service's selector, which
  key/value differs, and the corrected selector as a JSON patch.
- `port_mismatch`: a targetPort that no container of the selected pods has (named or numeric),
  and the targetPort that the pods do expose.
Not a check: helpers of checks/service_endpoints.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, selectors, services

Obj = Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    summary: str
    evidence: tuple[model.Cite, ...] = ()
    fix: model.Fix | None = None
    why: str = ""
    confidence: model.Confidence = model.Confidence.HIGH
    expect: tuple[str, ...] = ()
    """Pod IPs the Service's endpoints should list once fixed."""


def verify_command(svc: Obj) -> str:
    return (
        f"kubectl get endpointslices -n {objects.namespace(svc)} -l "
        f"kubernetes.io/service-name={objects.name(svc)}"
    )


def _patch_step(svc: Obj, ops: list[dict[str, Any]], description: str) -> model.FixStep:
    ns, name = objects.namespace(svc), objects.name(svc)
    text = json.dumps(ops, separators=(", ", ": "))
    return model.FixStep(
        description=description,
        language="shell",
        content=f"kubectl patch service {name} -n {ns} --type json -p '{text}'",
        action={"op": "patch", "target": objects.ref(svc), "patch_type": "json", "patch": ops},
    )


# --- selector ---------------------------------------------------------------------------------


def _label_diff(selector: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    out = []
    for key, raw in selector.items():
        want = objects.text(raw)
        have = labels.get(str(key))
        if have is None:
            out.append(f"pods have no label {key} (selector wants {key}={want})")
        elif have != want:
            out.append(f"{key}={have} on the pods, {key}={want} in the selector")
    return out


def _exposes(pod: Obj, port: Mapping[str, Any]) -> bool:
    wanted = {str(v) for v in (services.target_port(port), port.get("port"), port.get("name")) if v}
    return any(
        str(cp.get("containerPort")) in wanted or str(cp.get("name")) in wanted
        for c in pods.containers(pod)
        for cp in objects.as_list(c.get("ports"))
        if isinstance(cp, dict)
    )


def selector_mismatch(ev: evidence_model.Evidence, svc: Obj, client_namespace: str) -> Analysis:
    """Why the Service selects no pod; pods it would select are looked for in the client's
    namespace too (a database deployed beside its clients), where the check's needs read."""
    ns = objects.namespace(svc)
    selector = dict(objects.as_dict(objects.spec(svc).get("selector")))
    candidates = [p for p in ev.kind("Pod", ns) if pods.phase(p) not in ("Failed", "Succeeded")]
    evidence = _selected_elsewhere(ev, svc, selector, client_namespace)
    if not candidates:
        return Analysis(
            summary=f"{objects.ref(svc)} selects no pod: namespace {ns} has no running pod at all",
            evidence=(
                *evidence,
                model.Cite(text=f"no pods in namespace {ns}", source=objects.ref(svc)),
            ),
            fix=model.Fix(
                summary=f"Start the database pods in {ns} (check the StatefulSet's replicas "
                "and events)"
            ),
            why="A Service forwards only to pods it selects; with none there is no endpoint.",
            confidence=model.Confidence.MEDIUM,
        )
    best, closest = _closest(svc, selector, candidates)
    evidence.append(closest)
    best_labels = objects.labels(best)
    new = {k: best_labels[k] for k in selector if k in best_labels}
    if not new:
        owner = _owner_match_labels(ev, best)
        new = owner or ({"app": best_labels["app"]} if "app" in best_labels else {})
    if not new:
        return Analysis(
            summary=f"{objects.ref(svc)} selects no pod ({_described(selector)})",
            evidence=tuple(evidence),
            confidence=model.Confidence.MEDIUM,
            fix=model.Fix(summary="Give the Service a selector that matches the database pods"),
        )
    return _reselect(svc, selector, new, best, candidates, evidence)


def _described(selector: Mapping[str, str]) -> str:
    return selectors.describe({"matchLabels": dict(selector)})


def _selected_elsewhere(
    ev: evidence_model.Evidence, svc: Obj, selector: dict[str, str], client_namespace: str
) -> list[model.Cite]:
    """A citation when the selector matches pods of the client's namespace instead."""
    ns = objects.namespace(svc)
    elsewhere = sorted(
        f"{objects.namespace(p)}/{objects.name(p)}"
        for p in (ev.kind("Pod", client_namespace) if client_namespace != ns else ())
        if selectors.map_matches(selector, objects.labels(p))
    )
    if not elsewhere:
        return []
    return [
        model.Cite(
            text=f"pods matching {_described(selector)} exist in another namespace: "
            f"{', '.join(elsewhere[:3])} (a Service selects pods in its own namespace only)",
            source=objects.ref(svc),
        )
    ]


def _closest(
    svc: Obj, selector: dict[str, str], candidates: Sequence[Obj]
) -> tuple[Obj, model.Cite]:
    """The pod whose labels differ least from the selector (one exposing the Service's port
    first), and the citation naming it and its siblings with what differs."""
    ports = services.service_ports(svc)
    ranked = sorted(
        candidates,
        key=lambda p: (
            len(_label_diff(selector, objects.labels(p))),
            not any(_exposes(p, port) for port in ports),
            objects.name(p),
        ),
    )
    best = ranked[0]
    best_labels = objects.labels(best)
    same = [p for p in ranked if objects.labels(p) == best_labels or _same_owner(p, best)]
    shown = ", ".join(
        f"{k}={v}"
        for k, v in sorted(best_labels.items())
        if not k.endswith(
            ("pod-template-hash", "controller-revision-hash", "pod-name", "pod-index")
        )
    )
    cite = model.Cite(
        text=f"closest pods: {', '.join(objects.name(p) for p in same[:3])} with labels "
        f"{shown}; " + "; ".join(_label_diff(selector, best_labels)),
        source=objects.ref(best),
    )
    return best, cite


def _reselect(
    svc: Obj,
    selector: dict[str, str],
    new: dict[str, str],
    best: Obj,
    candidates: Sequence[Obj],
    evidence: list[model.Cite],
) -> Analysis:
    """The fix: the Service's selector set to `new`, which selects the closest pods."""
    ns = objects.namespace(svc)
    would = [p for p in candidates if selectors.map_matches(new, objects.labels(p))]
    evidence.append(
        model.Cite(
            text=f"selector {_described(new)} would select "
            f"{', '.join(objects.name(p) for p in would[:5])}",
            source=objects.ref(svc),
        )
    )
    patch = [{"op": "replace", "path": "/spec/selector", "value": new}]
    manifest = "spec:\n  selector:\n" + "".join(f"    {k}: {v}\n" for k, v in new.items())
    diffs = _label_diff(selector, objects.labels(best))
    return Analysis(
        summary=f"{objects.ref(svc)} selects no pod: its selector {_described(selector)} matches no"
        f" pod in namespace {ns}; the closest pods ({objects.name(best)}) differ in {len(diffs)}"
        " label(s)",
        evidence=tuple(evidence),
        fix=model.Fix(
            summary=f"Set the Service's selector to {_described(new)}",
            steps=(
                _patch_step(svc, patch, "correct the selector (takes effect at once, no restart)"),
                model.FixStep(
                    description=f"or the same in the Service manifest (kubectl apply -n {ns})",
                    language="yaml",
                    content=manifest,
                ),
            ),
            alternatives=(
                "relabel the pods through their workload's template (a rollout; a StatefulSet's "
                "spec.selector cannot change)",
            ),
            rollback=_rollback(svc, selector),
        ),
        expect=tuple(ip for p in would if (ip := pods.ip(p))),
        why="A Service forwards only to pods whose labels match every key of its selector; with no "
        "match its endpoints stay empty and kube-proxy rejects connections to the ClusterIP.",
    )


def _same_owner(a: Obj, b: Obj) -> bool:
    owners = {
        r.get("uid")
        for r in objects.as_list(objects.meta(a).get("ownerReferences"))
        if isinstance(r, dict)
    }
    return bool(owners - {None}) and any(
        isinstance(r, dict) and r.get("uid") in owners
        for r in objects.as_list(objects.meta(b).get("ownerReferences"))
    )


def _owner_match_labels(ev: evidence_model.Evidence, pod: Obj) -> dict[str, str]:
    owner = clues.owner_workload(ev, pod)
    sel = objects.as_dict(objects.spec(owner).get("selector")) if owner else {}
    if sel.get("matchExpressions"):
        return {}
    return {str(k): str(v) for k, v in objects.as_dict(sel.get("matchLabels")).items()}


def _rollback(svc: Obj, old_selector: Mapping[str, Any]) -> str:
    ops = [{"op": "replace", "path": "/spec/selector", "value": dict(old_selector)}]
    return (
        f"kubectl patch service {objects.name(svc)} -n {objects.namespace(svc)} --type json -p "
        f"'{json.dumps(ops, separators=(', ', ': '))}'"
    )


# --- ports ------------------------------------------------------------------------------------


def port_mismatch(svc: Obj, port: Mapping[str, Any], selected: Sequence[Obj]) -> Analysis | None:
    if not port:
        return None
    target = services.target_port(port)
    protocol = str(port.get("protocol") or "TCP")
    pod = selected[0]
    declared = [
        cp
        for c in pods.containers(pod)
        for cp in objects.as_list(c.get("ports"))
        if isinstance(cp, dict)
        and str(cp.get("protocol") or "TCP") == protocol
        and isinstance(cp.get("containerPort"), int)
    ]
    listed = (
        ", ".join(f"{cp.get('name') or '-'}:{cp.get('containerPort')}" for cp in declared) or "none"
    )
    if isinstance(target, str) and not target.isdecimal():
        if services.container_port(pod, target, protocol) is not None:
            return None
        problem = (
            f"targetPort {target!r} names no port of pod {objects.name(pod)} (its ports: {listed})"
        )
        confidence = model.Confidence.HIGH
    else:
        number = int(target)
        if not declared or any(cp.get("containerPort") == number for cp in declared):
            return None
        problem = (
            f"targetPort {number} is not a port of pod {objects.name(pod)} (its containers "
            f"declare {listed})"
        )
        confidence = model.Confidence.MEDIUM
    right = _right_port(port, declared)
    index = next(
        (i for i, p in enumerate(services.service_ports(svc)) if p is port or p == port), 0
    )
    cite = model.Cite(text=problem, source=objects.ref(pod))
    if right is None:
        return Analysis(
            summary=f"{objects.ref(svc)} port {port.get('port')}: {problem}",
            evidence=(cite,),
            confidence=model.Confidence.MEDIUM,
            fix=model.Fix(
                summary="Set the Service's targetPort to the port the database listens on"
            ),
        )
    patch = [{"op": "replace", "path": f"/spec/ports/{index}/targetPort", "value": right}]
    return Analysis(
        summary=f"{objects.ref(svc)} port {port.get('port')}: {problem}",
        evidence=(cite,),
        fix=model.Fix(
            summary=f"Set targetPort of Service port {port.get('port')} to {right}",
            steps=(_patch_step(svc, patch, "point the Service port at the container's port"),),
            rollback=f"kubectl patch service {objects.name(svc)} -n {objects.namespace(svc)} "
            "--type json -p "
            f"'{json.dumps([{**patch[0], 'value': target}], separators=(', ', ': '))}'",
        ),
        expect=tuple(ip for p in selected if pods.is_ready(p) and (ip := pods.ip(p))),
        why="kube-proxy forwards to targetPort on the pod; a named targetPort the pod lacks "
        "yields no endpoint port, a wrong number sends connections to a port nothing listens on.",
        confidence=confidence,
    )


def _right_port(port: Mapping[str, Any], declared: list[dict[str, Any]]) -> int | str | None:
    for cp in declared:
        if port.get("name") and cp.get("name") == port.get("name"):
            return str(port["name"])
    for cp in declared:
        if cp.get("containerPort") == port.get("port"):
            return str(cp["name"]) if cp.get("name") else int(cp["containerPort"])
    if len(declared) == 1:
        cp = declared[0]
        return str(cp["name"]) if cp.get("name") else int(cp["containerPort"])
    return None
