"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy objects, parsed and validated.

Each object holds one rule in `spec`, a list in `specs`, or both; every rule is one `Spec`:

- exactly one of `endpointSelector` (pods) and `nodeSelector` (nodes: a host-firewall policy,
  CiliumClusterwideNetworkPolicy only; read but not evaluated, see `unmodelled`). A
  CiliumNetworkPolicy's endpointSelector selects pods of its own namespace only;
- `ingress`, `egress` (allow) and `ingressDeny`, `egressDeny` (deny, before any allow of any
  policy) rule lists (`fields` parses each rule's peers and ports);
- default deny per direction: on when the rule has allow or deny rules of that direction, unless
  `enableDefaultDeny.<direction>` says otherwise (Cilium's Rule.Sanitize). `ingress: []` has no
  rule and so switches nothing on.

A problem Cilium would reject makes the whole object `form.Invalid` (one line per field); parts
Cilium enforces but this engine does not (L7, FQDN, Service and group peers, host policies,
mutual authentication, requirement selectors) are returned as notes and listed as unmodelled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects
from paramedic.netpol import form, model, policies
from paramedic.netpol.cilium import fields
from paramedic.netpol.cilium import ports as ports_of

GROUP = "cilium.io"
CNP, CCNP, CIDR_GROUP = (
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "CiliumCIDRGroup",
)
Direction = model.Direction
SECTIONS = (
    ("ingress", Direction.INGRESS, False),
    ("ingressDeny", Direction.INGRESS, True),
    ("egress", Direction.EGRESS, False),
    ("egressDeny", Direction.EGRESS, True),
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    field: str
    """'ingress' | 'ingressDeny' | 'egress' | 'egressDeny'."""
    index: int
    direction: Direction
    deny: bool
    peers: tuple[fields.Peer, ...] | None
    ports: tuple[policies.PortSpec, ...] | None

    @property
    def label(self) -> str:
        return f"{self.field}[{self.index}]"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    kind: str
    namespace: str
    """'' for a CiliumClusterwideNetworkPolicy."""
    name: str
    index: int | None
    """None: the object's `spec`; i: `specs[i]`."""
    selector: Mapping[str, Any]
    """Normalised endpointSelector (nodeSelector for a host policy)."""
    host: bool
    rules: tuple[Rule, ...]
    default_deny: frozenset[Direction]
    obj: Mapping[str, Any] = dataclasses.field(compare=False, repr=False)

    @property
    def path(self) -> str:
        return "spec" if self.index is None else f"specs[{self.index}]"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    specs: tuple[Spec, ...] = ()
    invalid: form.Invalid | None = None
    notes: tuple[str, ...] = ()


def is_cilium(obj: Mapping[str, Any]) -> bool:
    return str(obj.get("apiVersion") or "").rpartition("/")[0] == GROUP


def parse(obj: Mapping[str, Any]) -> Parsed:
    kind, name = str(obj.get("kind")), objects.name(obj)
    namespace = objects.namespace(obj) if kind == CNP else ""
    if kind == CNP and not namespace:
        namespace = "default"
    problems: list[str] = []
    notes: list[str] = []
    found: list[tuple[str, int | None, Any]] = []
    if obj.get("spec") is not None:
        found.append(("spec", None, obj.get("spec")))
    raw_specs = obj.get("specs")
    if raw_specs is not None:
        if not isinstance(raw_specs, list):
            problems.append("specs: must be a list of rules")
        else:
            found += [(f"specs[{i}]", i, item) for i, item in enumerate(raw_specs)]
    if not found and not problems:
        problems.append("spec: required (spec or specs)")
    specs = []
    for where, index, raw in found:
        spec = _spec(kind, namespace, name, index, raw, where, problems, notes, obj)
        specs += [spec] if spec is not None else []
    if problems:
        invalid = form.Invalid(kind=kind, namespace=namespace, name=name, problems=tuple(problems))
        return Parsed(invalid=invalid)
    return Parsed(specs=tuple(specs), notes=tuple(notes))


def _spec(
    kind: str,
    namespace: str,
    name: str,
    index: int | None,
    raw: Any,
    where: str,
    problems: list[str],
    notes: list[str],
    obj: Mapping[str, Any],
) -> Spec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    has_endpoints, has_nodes = (
        raw.get("endpointSelector") is not None,
        raw.get("nodeSelector") is not None,
    )
    if has_endpoints == has_nodes:
        problems.append(f"{where}: needs exactly one of endpointSelector and nodeSelector")
        return None
    if has_nodes and kind == CNP:
        problems.append(
            f"{where}.nodeSelector: only a CiliumClusterwideNetworkPolicy may select nodes"
        )
        return None
    field = "nodeSelector" if has_nodes else "endpointSelector"
    selector = fields.selector_of(raw[field], f"{where}.{field}", problems)
    if selector is not None and selector[1]:
        notes.append(
            f"{where}.{field}: selects reserved identities ({', '.join(sorted(selector[1]))})"
        )
    rules: list[Rule] = []
    for section, direction, deny in SECTIONS:
        items = raw.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(f"{where}.{section}: must be a list of rules")
            continue
        for i, item in enumerate(items):
            rule = _rule(
                section, direction, deny, i, item, f"{where}.{section}[{i}]", problems, notes
            )
            rules += [rule] if rule is not None else []
    default_deny = _default_deny(raw, where, problems)
    if selector is None:
        return None
    if has_nodes:
        notes.append(
            f"{where}.nodeSelector: a host-firewall policy (it applies to nodes, not pods)"
        )
    if selector[1] and not has_nodes:
        return None
    return Spec(
        kind=kind,
        namespace=namespace,
        name=name,
        index=index,
        selector=selector[0],
        host=has_nodes,
        rules=tuple(rules),
        default_deny=default_deny,
        obj=obj,
    )


def _default_deny(raw: Mapping[str, Any], where: str, problems: list[str]) -> frozenset[Direction]:
    flags = raw.get("enableDefaultDeny")
    if flags is not None and not isinstance(flags, dict):
        problems.append(f"{where}.enableDefaultDeny: must be a mapping")
        flags = {}
    chosen = set()
    for word, direction in (("ingress", Direction.INGRESS), ("egress", Direction.EGRESS)):
        value = (flags or {}).get(word)
        if value is not None and not isinstance(value, bool):
            problems.append(f"{where}.enableDefaultDeny.{word}: must be true or false")
            continue
        has_rules = bool(raw.get(word)) or bool(raw.get(f"{word}Deny"))
        if has_rules if value is None else value:
            chosen.add(direction)
    return frozenset(chosen)


def _rule(
    section: str,
    direction: Direction,
    deny: bool,
    index: int,
    item: Any,
    where: str,
    problems: list[str],
    notes: list[str],
) -> Rule | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    side = "from" if direction is Direction.INGRESS else "to"
    peers = fields.l3(item, side, where, problems)
    ports = ports_of.l4(item, where, problems, ingress=direction is Direction.INGRESS)
    notes.extend(peers.unmodelled + ports.unmodelled)
    for extra in (f"{side}Requires", "authentication"):
        if item.get(extra):
            notes.append(f"{where}.{extra}: not evaluated")
    return Rule(
        field=section,
        index=index,
        direction=direction,
        deny=deny,
        peers=peers.peers,
        ports=ports.ports,
    )


Groups = dict[str, tuple[Mapping[str, str], tuple[policies.Network, ...]]]


def cidr_groups(items: tuple[Mapping[str, Any], ...]) -> Groups:
    """CiliumCIDRGroup name -> (labels, its externalCIDRs); unparsable entries are skipped."""
    out: Groups = {}
    for obj in items:
        if not is_cilium(obj):
            continue
        nets = []
        for text in objects.as_list(objects.spec(obj).get("externalCIDRs")):
            problems: list[str] = []
            net = fields.network(text, "externalCIDRs", problems, bare_ok=True)
            nets += [net] if net is not None else []
        out[objects.name(obj)] = (objects.labels(obj), tuple(nets))
    return out
