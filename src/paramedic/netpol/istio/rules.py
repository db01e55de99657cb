"""An AuthorizationPolicy's rules as rules of the compiled form, on a TCP connection.

One Istio rule is `from` (sources OR-ed) AND `to` (operations OR-ed) AND every `when`. It becomes
one form rule per operation (ports AND notPorts of that operation, AND `destination.port`),
each with one term per source (its conditions AND the source-side `when` conditions).

HTTP-only fields on TCP, as Istio's authorization builder treats them (`checkError`): in an
ALLOW policy the whole rule is dropped (it can match no connection: the allow shrinks); in a
DENY policy only those conditions are dropped (the rule then denies more). Conditions on what
paramedic does not model (`destination.ip`, `connection.sni`, Envoy filter state) make the rule
*unmodelled*: it is left out and reported so the verdict is inconclusive.
"""

from __future__ import annotations

import dataclasses

from paramedic.netpol import cluster, form, labelmatch, policies
from paramedic.netpol.istio import match, mesh, resources

TCP_ALL = (policies.PortSpec(protocol="TCP", port=None),)
IDENTITY = ("principal", "namespace", "serviceAccount", "trustDomain")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Compiled:
    rules: tuple[form.Rule, ...] = ()
    unmodelled: tuple[str, ...] = ()
    """'rules[2]: when[connection.sni] is not modelled', one per rule left out."""
    uses_identity: bool = False


def compile_rules(policy: resources.AuthorizationPolicy, config: mesh.Mesh) -> Compiled:
    out: list[form.Rule] = []
    skipped: list[str] = []
    identity = False
    for rule in policy.rules:
        every = [c for s in rule.sources or () for c in s]
        every += [c for o in rule.operations or () for c in o] + list(rule.when)
        odd = [c.field for c in every if c.meaning == "unmodelled"]
        if odd:
            skipped.append(f"rules[{rule.index}]: {odd[0]} is not modelled")
            continue
        if policy.action == "ALLOW" and any(c.meaning == "http" for c in every):
            continue  # an ALLOW rule with HTTP-only fields matches no TCP connection
        identity = identity or any(c.meaning in IDENTITY for c in every)
        out += _rule(policy, rule, config)
    return Compiled(rules=tuple(out), unmodelled=tuple(skipped), uses_identity=identity)


def _rule(
    policy: resources.AuthorizationPolicy, rule: resources.Rule, config: mesh.Mesh
) -> list[form.Rule]:
    kept = [c for c in rule.when if c.meaning != "http"]
    source_side = [c for c in kept if c.meaning != "port"]
    port_side = [c for c in kept if c.meaning == "port"]
    terms: list[form.Term] = []
    everyone = False
    for source in rule.sources or ((),):
        found = _terms(policy, (*source, *source_side), config)
        if found is None:
            everyone = True
        else:
            terms += found
    if not everyone and not terms:
        return []  # no source can match
    peers = None if everyone else tuple(dict((t.key, t) for t in terms).values())
    action = form.Action.ALLOW if policy.action == "ALLOW" else form.Action.DENY
    out = []
    operations = rule.operations or ((),)
    for j, operation in enumerate(operations):
        ports = _ports([c for c in (*operation, *port_side) if c.meaning == "port"])
        if ports is None:
            continue
        label = f"rules[{rule.index}]" + (f".to[{j}]" if len(operations) > 1 else "")
        out.append(
            form.Rule(
                action=action,
                peers=peers,
                ports=ports[0],
                not_ports=ports[1],
                index=rule.index,
                label=label,
            )
        )
    return out


def _terms(
    policy: resources.AuthorizationPolicy,
    conditions: tuple[resources.Condition, ...],
    config: mesh.Mesh,
) -> list[form.Term] | None:
    """The terms for one source's conditions (OR-ed); None: every endpoint."""
    who = tuple(_identity(c, policy.namespace, config) for c in conditions if c.meaning in IDENTITY)
    nets: tuple[policies.IPBlock, ...] | None = None
    not_nets: list[policies.IPBlock] = []
    for c in conditions:
        if c.meaning != "ip":
            continue
        blocks = [policies.IPBlock(cidr=resources.network(v)) for v in c.values]
        if c.negated:
            not_nets += blocks
        else:
            nets = tuple(blocks) if nets is None else _intersect(nets, blocks)
    if nets == ():
        return []
    texts = [c.text for c in who]
    if nets is not None:
        texts.append("ipBlocks " + ", ".join(b.describe() for b in nets))
    if not_nets:
        texts.append("not ipBlocks " + ", ".join(b.describe() for b in not_nets))
    text = "sources " + " and ".join(texts) if texts else "any source"
    base = "|".join(texts)
    if not who and nets is None and not not_nets:
        return None
    plain = form.Term(key=f"istio-src|{base}", text=text, nets=nets, not_nets=tuple(not_nets))
    if not who:
        return [plain]
    pods = match.Identity(conditions=who)
    spaces = _pinned(policy, conditions, config)
    within = None
    if spaces is not None:  # the identity names its namespaces: only their pods can match
        within = labelmatch.KubeSelector.of(
            {
                "matchExpressions": [
                    {"key": cluster.NAME_LABEL, "operator": "In", "values": sorted(spaces)}
                ]
            }
        )
    found = [
        dataclasses.replace(plain, key=f"istio-src|{pods.key}|{base}", pods=pods, namespaces=within)
    ]
    if all(c.negated for c in who):  # no identity at all also satisfies only-negated conditions
        found.append(
            dataclasses.replace(
                plain,
                key=f"istio-src|outside|{base}",
                text=f"{text} (no mesh identity)",
                off_pod_network=True,
            )
        )
    return found


def _pinned(
    policy: resources.AuthorizationPolicy,
    conditions: tuple[resources.Condition, ...],
    config: mesh.Mesh,
) -> frozenset[str] | None:
    """Namespaces every positive identity condition confines the peer to (None: any)."""
    found: frozenset[str] | None = None
    for c in conditions:
        if c.negated or c.meaning not in IDENTITY:
            continue
        values = (
            match.principals_in_mesh(c.values, config) if c.meaning == "principal" else c.values
        )
        spaces = {match.pinned_namespace(c.meaning, v, policy.namespace) for v in values}
        if None in spaces:
            continue
        pinned = frozenset(s for s in spaces if s is not None)
        found = pinned if found is None else found & pinned
    return found


def _identity(c: resources.Condition, policy_namespace: str, config: mesh.Mesh) -> match.Condition:
    values = c.values
    exact: frozenset[str] = frozenset()
    if c.meaning == "principal":
        values = match.principals_in_mesh(values, config)
        exact, wild = match.exact_principals(values)
        patterns = tuple(match.principal(v) for v in wild)
    elif c.meaning == "namespace":
        patterns = tuple(match.namespace(v) for v in values)
    elif c.meaning == "serviceAccount":
        patterns = tuple(match.service_account(v, policy_namespace) for v in values)
    else:
        expanded = [
            d for v in values for d in (config.trust_domains if v in config.trust_domains else (v,))
        ]
        patterns = tuple(match.trust_domain(v) for v in dict.fromkeys(expanded))
    word = "not " if c.negated else ""
    return match.Condition(f"{word}{c.meaning} {'|'.join(values)}", patterns, c.negated, exact)


def _intersect(
    left: tuple[policies.IPBlock, ...], right: list[policies.IPBlock]
) -> tuple[policies.IPBlock, ...]:
    """Addresses in both lists: CIDRs nest or are disjoint, so each overlap is the smaller."""
    out = []
    for a in left:
        for b in right:
            if a.cidr.version != b.cidr.version or not a.cidr.overlaps(b.cidr):
                continue
            out.append(a if a.cidr.prefixlen >= b.cidr.prefixlen else b)
    return tuple(out)


def _ports(
    conditions: list[resources.Condition],
) -> tuple[tuple[policies.PortSpec, ...], tuple[policies.PortSpec, ...]] | None:
    """(ports, not_ports) on TCP; None when the positive lists have no port in common."""
    wanted: set[int] | None = None
    excluded: set[int] = set()
    for c in conditions:
        numbers = {int(v) for v in c.values}
        if c.negated:
            excluded |= numbers
        else:
            wanted = numbers if wanted is None else wanted & numbers
    if wanted is not None and not wanted:
        return None
    ports = (
        TCP_ALL
        if wanted is None
        else tuple(policies.PortSpec(protocol="TCP", port=p) for p in sorted(wanted))
    )
    return ports, tuple(policies.PortSpec(protocol="TCP", port=p) for p in sorted(excluded))
