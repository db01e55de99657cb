"""Parse and validate the cluster-wide admin policies (policy.networking.k8s.io) into the form.

    AdminNetworkPolicy          v1alpha1  priority 0-1000, actions Allow | Deny | Pass
    BaselineAdminNetworkPolicy  v1alpha1  only metadata.name "default", actions Allow | Deny
    ClusterNetworkPolicy        v1alpha2  tier Admin | Baseline, priority 0-1000,
                                          actions Accept | Deny | Pass, ports under `protocols`

Facts from the upstream API types and their validation markers (kubernetes-sigs/
network-policy-api): a subject is exactly one of `namespaces` / `pods` (namespace AND pod
selectors); every peer exactly one of `namespaces`, `pods` and, for egress, `nodes` (node IPs of
matching Nodes), `networks` (1-25 CIDRs; they match pod IPs too) or `domainNames` (FQDN, Allow /
Accept only: not evaluated, reported as unmodelled); a port exactly one of `portNumber`,
`namedPort`, `portRange` (start < end); a named port is not allowed with a networks/nodes/
domainNames peer. Host-network pods are never subjects nor pod peers. Problems are collected,
each naming its field; a policy with any is `form.Invalid`, never evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects
from paramedic.netpol import form, labelmatch, policies, validation
from paramedic.netpol.layers import admin_ports

GROUP = "policy.networking.k8s.io"
ANP, BANP, CNP = "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"
ACTIONS = {
    ANP: {"Allow": form.Action.ALLOW, "Deny": form.Action.DENY, "Pass": form.Action.PASS},
    BANP: {"Allow": form.Action.ALLOW, "Deny": form.Action.DENY},
    CNP: {"Accept": form.Action.ALLOW, "Deny": form.Action.DENY, "Pass": form.Action.PASS},
}
MAX_RULES = {ANP: 100, BANP: 100, CNP: 25}


def parse(obj: Mapping[str, Any]) -> tuple[str, form.Policy | form.Invalid, list[str]]:
    """(tier 'admin'|'baseline', the compiled policy or Invalid, notes on unmodelled parts)."""
    kind, name = str(obj.get("kind")), objects.name(obj)
    problems: list[str] = []
    notes: list[str] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
        problems.append("spec: required (a mapping)")
    tier = "baseline" if kind == BANP else "admin"
    order: float | None = None
    if kind == CNP:
        raw_tier = spec.get("tier")
        if raw_tier not in ("Admin", "Baseline"):
            problems.append(f"spec.tier: unsupported value {raw_tier!r} (Admin, Baseline)")
        tier = "baseline" if raw_tier == "Baseline" else "admin"
    if kind == BANP:
        if name != "default":
            problems.append(f"metadata.name: must be 'default' (got {name!r})")
    else:
        priority = spec.get("priority")
        if isinstance(priority, bool) or not isinstance(priority, int):
            problems.append(f"spec.priority: required, a number 0-1000 (got {priority!r})")
        elif not 0 <= priority <= 1000:
            problems.append(f"spec.priority: {priority} is out of range (0-1000)")
        else:
            order = float(priority)
    subject = _subject(spec.get("subject"), "spec.subject", problems)
    rules = {
        d: _rules(kind, spec.get(d), f"spec.{d}", d, problems, notes) for d in ("ingress", "egress")
    }
    if problems:
        return (
            tier,
            form.Invalid(
                kind=kind, namespace="", name=name, problems=tuple(problems), subject=subject
            ),
            notes,
        )
    assert subject is not None
    policy = form.Policy(
        kind=kind,
        namespace="",
        name=name,
        tier=tier,
        order=order,
        subject=subject,
        directions=frozenset(form.Direction),
        ingress=rules["ingress"],
        egress=rules["egress"],
        source=obj,
    )
    return tier, policy, notes


def _selector(raw: Any, where: str, problems: list[str]) -> labelmatch.KubeSelector | None:
    found = validation.selector_problems(raw, where) if raw is not None else [f"{where}: required"]
    problems.extend(found)
    return None if found else labelmatch.KubeSelector.of(raw)


def _one_of(raw: Any, where: str, allowed: tuple[str, ...], problems: list[str]) -> str | None:
    """The one field set in `raw` among `allowed` (API: MinProperties=MaxProperties=1)."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with exactly one of {', '.join(allowed)}")
        return None
    present = [k for k in raw if raw[k] is not None]
    unknown = [k for k in present if k not in allowed]
    if unknown:
        problems.append(f"{where}.{unknown[0]}: not allowed here (one of {', '.join(allowed)})")
        return None
    if len(present) != 1:
        problems.append(
            f"{where}: must set exactly one of {', '.join(allowed)} (found {len(present)})"
        )
        return None
    return present[0]


def _subject(raw: Any, where: str, problems: list[str]) -> form.Term | None:
    field = _one_of(raw, where, ("namespaces", "pods"), problems)
    return None if field is None else _pod_term(field, raw[field], f"{where}.{field}", problems)


def _pod_term(field: str, raw: Any, where: str, problems: list[str]) -> form.Term | None:
    if field == "namespaces":
        ns = _selector(raw, where, problems)
        if ns is None:
            return None
        return form.Term(
            key=f"anp:ns:{ns.key}", text=f"pods in namespaces {ns.describe()}", namespaces=ns
        )
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping (namespaceSelector, podSelector)")
        return None
    ns = _selector(raw.get("namespaceSelector", {}), f"{where}.namespaceSelector", problems)
    pods = _selector(raw.get("podSelector"), f"{where}.podSelector", problems)
    if ns is None or pods is None:
        return None
    return form.Term(
        key=f"anp:pods:{ns.key}|{pods.key}",
        text=f"pods {pods.describe()} in namespaces {ns.describe()}",
        namespaces=ns,
        pods=pods,
    )


def _rules(
    kind: str, raw: Any, where: str, direction: str, problems: list[str], notes: list[str]
) -> tuple[form.Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list of rules")
        return ()
    if len(raw) > MAX_RULES[kind]:
        problems.append(f"{where}: at most {MAX_RULES[kind]} rules (got {len(raw)})")
    found = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{here}: must be a mapping")
            continue
        label = f"{direction} rule {i}" + (f' "{item["name"]}"' if item.get("name") else "")
        if len(str(item.get("name") or "")) > 100:
            problems.append(f"{here}.name: at most 100 characters")
        action = ACTIONS[kind].get(str(item.get("action")))
        if action is None:
            problems.append(
                f"{here}.action: unknown action {item.get('action')!r} ({', '.join(ACTIONS[kind])})"
            )
        peer_field = "from" if direction == "ingress" else "to"
        terms, addressed = _peers(
            kind,
            item.get(peer_field),
            f"{here}.{peer_field}",
            direction,
            action,
            problems,
            notes,
            label,
        )
        ports = admin_ports.parse(kind, item, here, problems)
        if addressed and ports and any(isinstance(p.port, str) for p in ports):
            problems.append(
                f"{here}: a named port cannot be used with a networks, nodes or domainNames peer"
            )
        if action is not None:
            found.append(form.Rule(action=action, peers=terms, ports=ports, index=i, label=label))
    return tuple(found)


def _peers(
    kind: str,
    raw: Any,
    where: str,
    direction: str,
    action: form.Action | None,
    problems: list[str],
    notes: list[str],
    label: str,
) -> tuple[tuple[form.Term, ...], bool]:
    """The rule's terms, and whether any peer is an address peer (networks/nodes/domainNames)."""
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: required, a list of at least one peer")
        return (), False
    limit = 25 if kind == CNP else 100
    if len(raw) > limit:
        problems.append(f"{where}: at most {limit} peers (got {len(raw)})")
    allowed: tuple[str, ...] = ("namespaces", "pods")
    if direction == "egress":
        allowed += ("nodes", "networks") + (() if kind == BANP else ("domainNames",))
    terms: list[form.Term] = []
    addressed = False
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        field = _one_of(item, here, allowed, problems)
        if field is None:
            continue
        value, at = item[field], f"{here}.{field}"
        if field in ("namespaces", "pods"):
            term = _pod_term(field, value, at, problems)
        elif field == "nodes":
            addressed = True
            nodes = _selector(value, at, problems)
            term = (
                None
                if nodes is None
                else form.Term(
                    key=f"anp:nodes:{nodes.key}", text=f"nodes {nodes.describe()}", nodes=nodes
                )
            )
        elif field == "networks":
            addressed = True
            term = _networks(value, at, problems)
        else:
            addressed = True
            if action is not form.Action.ALLOW:
                problems.append(f"{at}: only allowed in Allow/Accept rules")
            names = ", ".join(map(str, objects.as_list(value)))
            notes.append(f"{label}: domainNames ({names}) are FQDN peers, not evaluated")
            term = None
        if term is not None:
            terms.append(term)
    return tuple(terms), addressed


def _networks(raw: Any, where: str, problems: list[str]) -> form.Term | None:
    if not isinstance(raw, list) or not 1 <= len(raw) <= 25:
        problems.append(f"{where}: must be a list of 1-25 CIDRs")
        return None
    blocks = []
    for i, text in enumerate(raw):
        net = validation.network(text, f"{where}[{i}]", problems)
        if net is not None:
            blocks.append(policies.IPBlock(cidr=net))
    if len(blocks) != len(raw):
        return None
    text = ", ".join(b.describe() for b in blocks)
    return form.Term(key=f"anp:net:{text}", text=f"networks {text}", nets=tuple(blocks))
