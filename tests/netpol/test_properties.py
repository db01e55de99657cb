"""Hypothesis properties: fast == oracle (every switch combination, every layer: NetworkPolicy,
admin and baseline tiers, Cilium's policies, Istio); an added NetworkPolicy allow rule never
removes a flow; any order."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import fuzzing
from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, explain, fast, matrix, model, peers

from . import build
from .istio import strategies as istio_strategies

NAMESPACES = ("a", "b", "c")
LABEL_VALUES = {"app": ("web", "db", "api"), "tier": ("front", "back")}
PORT_NAMES = ("http", "pg")
NODES = ("192.168.0.1", "192.168.0.2")

NETPOL_SETTINGS = fuzzing.depth(150)

labels_st = st.dictionaries(
    st.sampled_from(sorted(LABEL_VALUES)),
    st.sampled_from(("web", "db", "api", "front", "back")),
    max_size=2,
)
selector_st = st.one_of(
    st.just({}),
    st.builds(lambda m: {"matchLabels": m}, labels_st),
    st.builds(
        lambda k, op, vals: {
            "matchExpressions": [
                {"key": k, "operator": op, **({"values": vals} if op in ("In", "NotIn") else {})}
            ]
        },
        st.sampled_from(sorted(LABEL_VALUES)),
        st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")),
        st.lists(st.sampled_from(("web", "db", "api", "front")), min_size=1, max_size=2),
    ),
)
ns_selector_st = st.one_of(
    st.just({}),
    st.builds(
        lambda n: {"matchLabels": {"kubernetes.io/metadata.name": n}}, st.sampled_from(NAMESPACES)
    ),
    st.builds(lambda t: {"matchLabels": {"team": t}}, st.sampled_from(("x", "y"))),
)
ip_block_st = st.builds(
    lambda cidr, exc: {"cidr": cidr, **({"except": [exc]} if exc else {})},
    st.sampled_from(("10.0.0.0/8", "10.0.1.0/24", "10.0.0.0/23", "192.168.0.0/16", "0.0.0.0/0")),
    st.sampled_from((None,)),
) | st.just({"cidr": "10.0.0.0/16", "except": ["10.0.1.0/25"]})
peer_st = st.one_of(
    st.builds(lambda s: {"podSelector": s}, selector_st),
    st.builds(lambda s: {"namespaceSelector": s}, ns_selector_st),
    st.builds(lambda p, n: {"podSelector": p, "namespaceSelector": n}, selector_st, ns_selector_st),
    st.builds(lambda b: {"ipBlock": b}, ip_block_st),
)
port_st = st.one_of(
    st.builds(lambda p: {"port": p}, st.sampled_from((80, 5432, 53))),
    st.builds(lambda p: {"port": p, "protocol": "UDP"}, st.sampled_from((53, 5432))),
    st.builds(lambda p: {"port": p}, st.sampled_from(PORT_NAMES)),
    st.just({"port": 5000, "endPort": 6000}),
    st.just({"protocol": "TCP"}),
)
rule_st = st.fixed_dictionaries(
    {},
    optional={
        "peers": st.lists(peer_st, max_size=2),
        "ports": st.lists(port_st, max_size=2),
    },
)


def _rule(raw: dict[str, Any], field: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "peers" in raw:
        out[field] = raw["peers"]
    if "ports" in raw:
        out["ports"] = raw["ports"]
    return out


@st.composite
def policy_st(draw: Any, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(selector_st)}
    types = draw(st.sampled_from((None, ["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    if types is not None:
        spec["policyTypes"] = types
    if draw(st.booleans()):
        spec["ingress"] = [_rule(r, "from") for r in draw(st.lists(rule_st, max_size=2))]
    if draw(st.booleans()):
        spec["egress"] = [_rule(r, "to") for r in draw(st.lists(rule_st, max_size=2))]
    return build.policy(draw(st.sampled_from(NAMESPACES)), name, spec)


admin_peer_st = st.one_of(
    st.builds(lambda s: {"namespaces": s}, ns_selector_st),
    st.builds(
        lambda n, p: {"pods": {"namespaceSelector": n, "podSelector": p}},
        ns_selector_st,
        selector_st,
    ),
)
admin_egress_peer_st = admin_peer_st | st.one_of(
    st.builds(
        lambda c: {"networks": [c]},
        st.sampled_from(("10.0.0.0/16", "10.0.1.0/24", "192.168.0.0/16", "0.0.0.0/0")),
    ),
    st.builds(lambda r: {"nodes": {"matchLabels": {"role": r}}}, st.sampled_from(("a", "b"))),
    st.just({"nodes": {}}),
)
admin_port_st = st.one_of(
    st.builds(lambda p: {"portNumber": {"port": p}}, st.sampled_from((80, 5432, 53))),
    st.builds(lambda p: {"portNumber": {"protocol": "UDP", "port": p}}, st.just(53)),
    st.just({"portRange": {"start": 5000, "end": 6000}}),
    st.builds(lambda n: {"namedPort": n}, st.sampled_from(PORT_NAMES)),
)


@st.composite
def admin_rule_st(draw: Any, direction: str, actions: tuple[str, ...]) -> dict[str, Any]:
    peer = admin_egress_peer_st if direction == "egress" else admin_peer_st
    rule: dict[str, Any] = {
        "action": draw(st.sampled_from(actions)),
        ("to" if direction == "egress" else "from"): draw(st.lists(peer, min_size=1, max_size=2)),
    }
    addressed = any("networks" in p or "nodes" in p for p in rule.get("to", []))
    if draw(st.booleans()):
        ports = draw(st.lists(admin_port_st, min_size=1, max_size=2))
        rule["ports"] = [p for p in ports if not (addressed and "namedPort" in p)] or [
            {"portNumber": {"port": 5432}}
        ]
    return rule


@st.composite
def admin_st(draw: Any, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(("AdminNetworkPolicy", "BaselineAdminNetworkPolicy")))
    actions = ("Allow", "Deny", "Pass") if kind == "AdminNetworkPolicy" else ("Allow", "Deny")
    subject = draw(
        st.one_of(
            st.builds(lambda s: {"namespaces": s}, ns_selector_st),
            st.builds(
                lambda n, p: {"pods": {"namespaceSelector": n, "podSelector": p}},
                ns_selector_st,
                selector_st,
            ),
        )
    )
    spec: dict[str, Any] = {"subject": subject}
    for direction in ("ingress", "egress"):
        if draw(st.booleans()):
            spec[direction] = draw(st.lists(admin_rule_st(direction, actions), max_size=2))
    if kind == "BaselineAdminNetworkPolicy":
        return build.admin_policy("default", None, spec, kind=kind)
    return build.admin_policy(name, draw(st.integers(0, 3)), spec)


def _prefixed(selector: dict[str, Any], prefix: str) -> dict[str, Any]:
    labels = {f"{prefix}{k}": v for k, v in (selector.get("matchLabels") or {}).items()}
    return {**selector, **({"matchLabels": labels} if labels else {})}


cilium_selector_st = st.one_of(
    st.builds(_prefixed, selector_st, st.sampled_from(("", "k8s:", "any:"))),
    st.builds(
        lambda n, s: {**s, "matchLabels": {**(s.get("matchLabels") or {}),
                                           "k8s:io.kubernetes.pod.namespace": n}},
        st.sampled_from(NAMESPACES),
        selector_st,
    ),
    st.builds(
        lambda t: {"matchLabels": {"io.cilium.k8s.namespace.labels.team": t}},
        st.sampled_from(("x", "y")),
    ),
)  # fmt: skip
cilium_port_st = st.one_of(
    st.builds(lambda p: {"port": str(p), "protocol": "TCP"}, st.sampled_from((80, 5432, 0))),
    st.builds(lambda p: {"port": str(p), "protocol": "UDP"}, st.sampled_from((53, 5432))),
    st.builds(lambda p: {"port": p}, st.sampled_from(PORT_NAMES)),
    st.just({"port": "5000", "endPort": 6000, "protocol": "ANY"}),
)


@st.composite
def cilium_rule_st(draw: Any, side: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    which = draw(st.sampled_from(("Endpoints", "Entities", "CIDRSet", "CIDR", None)))
    if which == "Endpoints":
        rule[f"{side}Endpoints"] = draw(st.lists(cilium_selector_st, max_size=2))
    elif which == "Entities":
        rule[f"{side}Entities"] = draw(
            st.lists(st.sampled_from(("world", "cluster", "host", "remote-node", "all")),
                     min_size=1, max_size=2)
        )  # fmt: skip
    elif which == "CIDRSet":
        rule[f"{side}CIDRSet"] = [draw(ip_block_st)]
    elif which == "CIDR":
        rule[f"{side}CIDR"] = [draw(st.sampled_from(("10.0.0.5", "192.168.0.0/16", "0.0.0.0/0")))]
    if draw(st.booleans()):
        rule["toPorts"] = [{"ports": draw(st.lists(cilium_port_st, min_size=1, max_size=2))}]
    return rule


@st.composite
def cilium_st(draw: Any, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"endpointSelector": draw(cilium_selector_st)}
    for field, side in (("ingress", "from"), ("ingressDeny", "from"), ("egress", "to"),
                        ("egressDeny", "to")):  # fmt: skip
        if draw(st.booleans()) and draw(st.booleans()):
            spec[field] = draw(st.lists(cilium_rule_st(side), max_size=2))
    if draw(st.booleans()) and draw(st.booleans()):
        spec["enableDefaultDeny"] = {"ingress": draw(st.booleans()), "egress": draw(st.booleans())}
    kind = draw(st.sampled_from(("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")))
    meta: dict[str, Any] = {"name": name}
    if kind == "CiliumNetworkPolicy":
        meta["namespace"] = draw(st.sampled_from(NAMESPACES))
    return {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": meta, "spec": spec}


@st.composite
def cluster_st(draw: Any) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = [build.namespace("a", team="x"), build.namespace("b", team="y")]
    for role, ip in zip(("a", "b"), NODES, strict=True):
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": f"node-{role}", "labels": {"role": role}},
                "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
            }
        )
    for i in range(draw(st.integers(min_value=1, max_value=7))):
        host = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
        ports = draw(
            st.lists(
                st.builds(
                    lambda n, p: {"name": n, "containerPort": p},
                    st.sampled_from(PORT_NAMES),
                    st.sampled_from((80, 5432, 5500)),
                ),
                max_size=2,
                unique_by=lambda d: d["name"],
            )
        )
        ip = draw(st.sampled_from(("10.0.0.5", "10.0.1.7", "10.0.1.200", "10.2.0.9", None)))
        objs.append(
            build.pod(
                draw(st.sampled_from(NAMESPACES)),
                f"p{i}",
                draw(labels_st),
                ip=ip,
                node_ip=draw(st.sampled_from(NODES)),
                ports=ports,
                host_network=host,
            )
        )
    for i in range(draw(st.integers(min_value=0, max_value=4))):
        objs.append(draw(policy_st(f"np{i}")))
    admins = draw(st.lists(admin_st("anp"), max_size=3))
    seen: set[str] = set()
    for i, obj in enumerate(admins):  # one BANP ("default") at most; unique ANP names
        if obj["kind"] == "AdminNetworkPolicy":
            obj["metadata"]["name"] = f"anp{i}"
        if obj["metadata"]["name"] not in seen:
            seen.add(obj["metadata"]["name"])
            objs.append(obj)
    objs += [draw(cilium_st(f"cnp{i}")) for i in range(draw(st.integers(0, 3)))]
    objs += draw(istio_strategies.mesh_st(objs))
    return objs


SEMANTICS = st.builds(
    model.Semantics,
    ipblock_matches_pods=st.booleans(),
    ipblock_matches_nodes=st.booleans(),
    self_always_allowed=st.booleans(),
    node_to_pod_allowed=st.booleans(),
    cni=st.sampled_from(sorted(model.BY_NAME)),
)
"""Every combination of the switches, under every CNI's set of layers."""
FLOWS = st.sampled_from(((5432, "TCP"), (80, "TCP"), (53, "UDP"), (5500, "TCP")))


@NETPOL_SETTINGS
@given(objs=cluster_st(), flow=FLOWS, semantics=SEMANTICS)
def test_fast_engine_agrees_with_the_per_pair_oracle(objs, flow, semantics):
    ev = evidence_model.Evidence.of(objs)
    assert matrix.matrix(ev, *flow, semantics) == matrix.oracle_matrix(ev, *flow, semantics)


@NETPOL_SETTINGS
@given(objs=cluster_st(), flow=FLOWS, data=st.data())
def test_policy_order_never_matters(objs, flow, data):
    # cluster.build sorts the policies, so shuffling the objects proves nothing: shuffle the
    # parsed policies the engines walk (and give the view no compiled program to reuse).
    evidence = evidence_model.Evidence.of(objs)
    view = cluster.build(evidence)
    order = data.draw(st.permutations(range(len(view.policies))))
    policies = tuple(view.policies[i] for i in order)
    by_namespace: dict[str, list[Any]] = {}
    for policy in policies:
        by_namespace.setdefault(policy.namespace, []).append(policy)
    shuffled = dataclasses.replace(
        view,
        policies=policies,
        by_namespace={ns: tuple(items) for ns, items in by_namespace.items()},
        programs={},
    )
    pods = matrix.ordered_pods(evidence)
    assert fast.rows(shuffled, pods, *flow) == fast.rows(cluster.build(evidence), pods, *flow)
    peers_ = [peers.Peer.pod(p) for p in pods]
    for src in peers_[:3]:
        for dst in peers_[:3]:
            assert (
                explain.flow(shuffled, src, dst, *flow).allowed
                == explain.flow(view, src, dst, *flow).allowed
            )


@NETPOL_SETTINGS
@given(objs=cluster_st(), flow=FLOWS, data=st.data())
def test_adding_an_allow_rule_never_removes_a_flow(objs, flow, data):
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
    if not policies:
        return
    target = data.draw(st.sampled_from(policies))
    direction = data.draw(st.sampled_from(("ingress", "egress")))
    rule = _rule(data.draw(rule_st), "from" if direction == "ingress" else "to")
    spec = dict(target["spec"])
    spec.setdefault("policyTypes", ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
    spec[direction] = [*spec.get(direction, []), rule]
    changed = {**target, "spec": spec}
    after_objs = [changed if o is target else o for o in objs]
    before = matrix.matrix(evidence_model.Evidence.of(objs), *flow)
    after = matrix.matrix(evidence_model.Evidence.of(after_objs), *flow)
    assert all(b & ~a == 0 for b, a in zip(before.rows, after.rows, strict=True))
