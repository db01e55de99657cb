"""Truth tables from the Kubernetes NetworkPolicy documentation, one row per documented point."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.netpol import engine, model, peers

from . import build

N1, N2 = "192.168.0.1", "192.168.0.2"
OUTSIDE = "203.0.113.9"


def world(*policies: dict[str, Any]) -> list[dict[str, Any]]:
    """ns a (team=x, no metadata.name label), ns b (team=y); ns c: pods but no Namespace object."""
    return [
        build.namespace("a", team="x"),
        build.namespace("b", team="y"),
        build.pod(
            "a", "web", {"app": "web"}, "10.0.0.1", N1, [{"name": "http", "containerPort": 80}]
        ),
        build.pod(
            "a", "db", {"app": "db"}, "10.0.0.2", N1, [{"name": "pg", "containerPort": 5432}]
        ),
        build.pod("b", "client", {"app": "client"}, "10.0.1.1", N2),
        build.pod("c", "other", {"app": "web"}, "10.0.2.1", N2),
        build.pod("a", "host", {"app": "agent"}, None, N1, host_network=True),
        build.service("a", "db-svc", {"app": "db"}, [{"port": 15432, "targetPort": "pg"}]),
        *policies,
    ]


def pol(spec: dict[str, Any], ns: str = "a", name: str = "p") -> dict[str, Any]:
    return build.policy(ns, name, spec)


DENY_IN = pol({"podSelector": {}, "policyTypes": ["Ingress"]}, name="deny-in")
DENY_OUT = pol({"podSelector": {}, "policyTypes": ["Egress"]}, name="deny-out")
DB = {"matchLabels": {"app": "db"}}
WEB = {"matchLabels": {"app": "web"}}
EGRESS_TO_WEB = pol({"podSelector": DB, "egress": [{"to": [{"podSelector": WEB}]}]})


def ingress_db(*rules: dict[str, Any]) -> dict[str, Any]:
    return pol({"podSelector": DB, "ingress": list(rules)})


def flow(
    objs: list[dict[str, Any]],
    src: str,
    dst: str,
    port: int | str = 5432,
    protocol: str = "TCP",
    semantics: model.Semantics = model.DEFAULT,
) -> model.FlowResult:
    ev = build.evidence(*objs)
    s = peers.resolve(ev, src, source=True)[0].peer
    d = peers.resolve(ev, dst, port, protocol)[0]
    return engine.check_flow(
        ev, s, d.peer, d.port if d.port is not None else port, protocol, semantics
    )


def case(
    id_: str,
    policies: list[dict[str, Any]],
    src: str,
    dst: str,
    allowed: bool,
    fragment: str,
    *,
    port: int | str = 5432,
    protocol: str = "TCP",
) -> Any:
    """One documented point: from `src` to `dst` is `allowed`, for a reason naming `fragment`."""
    return pytest.param(policies, src, dst, port, protocol, allowed, fragment, id=id_)


CASES = [
    case("no_policy_means_not_isolated", [], "b/client", "a/db", True, "not isolated"),
    case(
        "deny_all_ingress_isolates_and_allows_nothing",
        [DENY_IN],
        "b/client",
        "a/db",
        False,
        "allow no ingress",
    ),
    case(
        "ingress_only_policy_does_not_isolate_egress",
        [pol({"podSelector": DB, "ingress": [{}]})],
        "a/db",
        "b/client",
        True,
        "not isolated",
        port=80,
    ),
    case(
        "missing_policy_types_with_egress_rules_isolates_egress",
        [EGRESS_TO_WEB],
        "a/db",
        "b/client",
        False,
        "no egress rule selects",
        port=80,
    ),
    case(
        "missing_policy_types_egress_rule_still_allows_its_peer",
        [EGRESS_TO_WEB],
        "a/db",
        "a/web",
        True,
        "egress[0]",
        port=80,
    ),
    case(
        "empty_egress_list_with_egress_type_denies_all_egress",
        [pol({"podSelector": DB, "policyTypes": ["Egress"], "egress": []})],
        "a/db",
        "a/web",
        False,
        "allow no egress",
        port=80,
    ),
    case(
        "empty_egress_list_without_policy_types_does_not_isolate_egress",
        [pol({"podSelector": DB, "egress": []})],
        "a/db",
        "a/web",
        True,
        "not isolated",
        port=80,
    ),
    case(
        "missing_from_matches_every_source",
        [ingress_db({"ports": [{"port": 5432}]})],
        OUTSIDE,
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "empty_from_list_matches_every_source",
        [ingress_db({"from": [], "ports": [{"port": 5432}]})],
        "c/other",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "empty_rule_allows_every_port",
        [ingress_db({})],
        "b/client",
        "a/db",
        True,
        "ingress[0]",
        port=9999,
        protocol="UDP",
    ),
    case(
        "rule_needs_peer_and_port_port_missing",
        [ingress_db({"ports": [{"port": 5432}]})],
        "b/client",
        "a/db",
        False,
        "allows only TCP 5432",
        port=80,
    ),
    case(
        "pod_selector_peer_is_namespace_local_same_ns",
        [ingress_db({"from": [{"podSelector": WEB}]})],
        "a/web",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "pod_selector_peer_is_namespace_local_other_ns",
        [ingress_db({"from": [{"podSelector": WEB}]})],
        "c/other",
        "a/db",
        False,
        "no ingress rule selects",
    ),
    case(
        "namespace_selector_matches_namespace_labels",
        [ingress_db({"from": [{"namespaceSelector": {"matchLabels": {"team": "y"}}}]})],
        "b/client",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "namespace_selector_rejects_other_namespaces",
        [ingress_db({"from": [{"namespaceSelector": {"matchLabels": {"team": "y"}}}]})],
        "a/web",
        "a/db",
        False,
        "no ingress rule selects",
    ),
    case(
        "metadata_name_label_is_added_when_the_namespace_lacks_it",
        [
            ingress_db(
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}}
                    ]
                }
            )
        ],
        "a/web",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "namespace_absent_from_evidence_exists_with_only_its_name_label",
        [
            ingress_db(
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "c"}}}
                    ]
                }
            )
        ],
        "c/other",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "both_selectors_in_one_peer_are_and",
        [
            ingress_db(
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"team": "y"}},
                            "podSelector": WEB,
                        }
                    ]
                }
            )
        ],
        "b/client",
        "a/db",
        False,
        "no ingress rule selects",
    ),
    case(
        "separate_peers_are_or",
        [
            ingress_db(
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"team": "y"}}},
                        {"podSelector": WEB},
                    ]
                }
            )
        ],
        "b/client",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "ip_block_matches_outside_address",
        [ingress_db({"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]})],
        OUTSIDE,
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "ip_block_except_excludes_address",
        [
            ingress_db(
                {"from": [{"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.0/28"]}}]}
            )
        ],
        OUTSIDE,
        "a/db",
        False,
        "no ingress rule selects",
    ),
    case(
        "ip_block_host_bits_are_masked",
        [ingress_db({"from": [{"ipBlock": {"cidr": "203.0.113.77/24"}}]})],
        OUTSIDE,
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "ip_block_matches_pod_ips_upstream",
        [ingress_db({"from": [{"ipBlock": {"cidr": "10.0.1.0/24"}}]})],
        "b/client",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "selectors_never_match_outside_addresses",
        [ingress_db({"from": [{"namespaceSelector": {}}]})],
        OUTSIDE,
        "a/db",
        False,
        "no ingress rule selects",
    ),
    case(
        "empty_namespace_selector_matches_every_pod",
        [ingress_db({"from": [{"namespaceSelector": {}}]})],
        "c/other",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "named_port_resolves_on_the_destination_pod",
        [ingress_db({"ports": [{"port": "pg"}]})],
        "b/client",
        "a/db",
        True,
        "ingress[0]",
    ),
    case(
        "named_port_other_number_does_not_match",
        [ingress_db({"ports": [{"port": "pg"}]})],
        "b/client",
        "a/db",
        False,
        "allows only TCP 'pg'",
        port=5433,
    ),
    case(
        "named_port_undefined_on_destination_is_explained",
        [pol({"podSelector": {}, "ingress": [{"ports": [{"port": "metrics"}]}]})],
        "b/client",
        "a/db",
        False,
        "does not define",
    ),
    case(
        "named_port_needs_the_same_protocol",
        [ingress_db({"ports": [{"port": "pg", "protocol": "UDP"}]})],
        "b/client",
        "a/db",
        False,
        "does not define",
        protocol="UDP",
    ),
    case(
        "end_port_range_includes",
        [ingress_db({"ports": [{"port": 5000, "endPort": 6000}]})],
        "b/client",
        "a/db",
        True,
        "ingress[0]",
        port=5500,
    ),
    case(
        "end_port_range_excludes",
        [ingress_db({"ports": [{"port": 5000, "endPort": 6000}]})],
        "b/client",
        "a/db",
        False,
        "5000-6000",
        port=6001,
    ),
    case(
        "protocol_defaults_to_tcp",
        [ingress_db({"ports": [{"port": 5432}]})],
        "b/client",
        "a/db",
        False,
        "allows only TCP 5432",
        protocol="UDP",
    ),
    case(
        "sctp_rule_matches_sctp",
        [ingress_db({"ports": [{"port": 5432, "protocol": "SCTP"}]})],
        "b/client",
        "a/db",
        True,
        "ingress[0]",
        protocol="SCTP",
    ),
    case(
        "policies_are_a_union",
        [
            DENY_IN,
            ingress_db({"from": [{"podSelector": WEB}]}),
            pol({"podSelector": DB, "ingress": [{"from": [{"namespaceSelector": {}}]}]}, name="q"),
        ],
        "b/client",
        "a/db",
        True,
        "NetworkPolicy a/q ingress[0]",
    ),
    case(
        "a_pod_may_always_reach_itself",
        [DENY_IN, DENY_OUT],
        "a/db",
        "a/db",
        True,
        "always reach itself",
    ),
    case("traffic_from_the_pods_own_node_is_allowed", [DENY_IN], N1, "a/db", True, "own node"),
    case("traffic_from_another_node_is_not", [DENY_IN], N2, "a/db", False, "allow no ingress"),
    case(
        "host_network_pod_on_the_same_node_is_node_traffic",
        [DENY_IN],
        "a/host",
        "a/db",
        True,
        "own node",
    ),
    case(
        "host_network_pod_egress_is_never_isolated",
        [DENY_OUT],
        "a/host",
        "b/client",
        True,
        "host network",
        port=80,
    ),
    case(
        "host_network_pod_is_seen_as_its_node_ip",
        [
            pol(
                {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": f"{N1}/32"}}]}]},
                ns="b",
            )
        ],
        "a/host",
        "b/client",
        True,
        "ingress[0]",
        port=80,
    ),
    case(
        "host_network_pod_is_not_matched_by_pod_selectors",
        [pol({"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]}, ns="b")],
        "a/host",
        "b/client",
        False,
        "no ingress rule selects",
        port=80,
    ),
    case(
        "egress_to_outside_address_needs_ip_block",
        [
            pol(
                {
                    "podSelector": DB,
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"namespaceSelector": {}}]}],
                }
            )
        ],
        "a/db",
        OUTSIDE,
        False,
        "no egress rule selects",
        port=443,
    ),
    case(
        "egress_to_host_network_pod_needs_an_ip_block_of_its_node",
        [
            pol(
                {
                    "podSelector": DB,
                    "policyTypes": ["Egress"],
                    "egress": [
                        {"to": [{"namespaceSelector": {}}]},
                        {"to": [{"ipBlock": {"cidr": f"{N1}/32"}}], "ports": [{"port": 9100}]},
                    ],
                }
            )
        ],
        "a/db",
        "a/host",
        True,
        "egress[1]",
        port=9100,
    ),
    case(
        "named_port_never_matches_an_outside_address",
        [
            pol(
                {
                    "podSelector": DB,
                    "policyTypes": ["Egress"],
                    "egress": [{"ports": [{"port": "http"}]}],
                }
            )
        ],
        "a/db",
        OUTSIDE,
        False,
        "does not define",
        port=80,
    ),
    case(
        "ipv6_block_never_matches_ipv4_address",
        [ingress_db({"from": [{"ipBlock": {"cidr": "::/0"}}]})],
        OUTSIDE,
        "a/db",
        False,
        "no ingress rule selects",
    ),
    case(
        "service_destination_translates_to_target_port",
        [ingress_db({"ports": [{"port": 5432}]})],
        "b/client",
        "a/db-svc",
        True,
        "ingress[0]",
        port=15432,
    ),
]


@pytest.mark.parametrize(
    ("policies", "src", "dst", "port", "protocol", "allowed", "fragment"), CASES
)
def test_truth_table(policies, src, dst, port, protocol, allowed, fragment):
    result = flow(world(*policies), src, dst, port, protocol)
    assert result.allowed is allowed, result.as_dict()
    reasons = " | ".join((result.egress.reason, result.ingress.reason))
    assert fragment in reasons


@pytest.mark.parametrize(
    ("semantics", "allowed"),
    [(model.DEFAULT, True), (model.CILIUM, False)],
    ids=["upstream_ip_block_matches_pods", "cilium_ip_block_never_matches_pods"],
)
def test_ip_block_semantics_are_switchable(semantics, allowed):
    objs = world(ingress_db({"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}))
    assert flow(objs, "b/client", "a/db", semantics=semantics).allowed is allowed


@pytest.mark.parametrize(
    ("semantics", "src", "allowed"),
    [
        (model.Semantics(self_always_allowed=False), "a/db", False),
        (model.Semantics(node_to_pod_allowed=False), N1, False),
    ],
    ids=["self_rule_off", "node_rule_off"],
)
def test_self_and_node_rules_are_switchable(semantics, src, allowed):
    assert flow(world(DENY_IN), src, "a/db", semantics=semantics).allowed is allowed


def test_allowed_by_names_policy_and_rule_index():
    objs = world(ingress_db({"ports": [{"port": 80}]}, {"ports": [{"port": 5432}]}))
    result = flow(objs, "b/client", "a/db")
    assert result.ingress.allowed_by == ("NetworkPolicy a/p", 1)
    assert result.ingress.policies == ("NetworkPolicy a/p",)
    assert result.egress.isolated is False


def test_service_named_target_port_resolves_per_pod():
    ev = build.evidence(*world())
    (endpoint,) = peers.resolve(ev, "a/db-svc", 15432)
    assert (endpoint.peer.ref, endpoint.port) == ("a/db", 5432)


def test_named_flow_port_missing_on_destination_is_an_input_error():
    from paramedic import errors

    ev = build.evidence(*world())
    src = peers.resolve(ev, "b/client")[0].peer
    dst = peers.resolve(ev, "a/web")[0].peer
    with pytest.raises(errors.InputError, match="no TCP port named 'pg'"):
        engine.check_flow(ev, src, dst, "pg")


def test_ip_of_a_known_pod_is_that_pod():
    ev = build.evidence(*world())
    assert peers.resolve(ev, "10.0.1.1")[0].peer.ref == "b/client"


@pytest.mark.parametrize(
    ("semantics", "src", "allowed"),
    [
        (model.DEFAULT, "a/host", True),
        (model.CILIUM, "a/host", False),
        (model.DEFAULT, N1, True),
        (model.CILIUM, N1, False),
        (model.CILIUM, OUTSIDE, True),
    ],
    ids=[
        "upstream_ip_block_matches_host_network_pod",
        "cilium_ip_block_skips_host_network_pod",
        "upstream_ip_block_matches_node_ip",
        "cilium_ip_block_skips_node_ip",
        "cilium_ip_block_still_matches_outside_address",
    ],
)
def test_ip_block_on_node_addresses_is_switchable(semantics, src, allowed):
    block = {"ipBlock": {"cidr": "0.0.0.0/0"}}
    objs = world(pol({"podSelector": {}, "ingress": [{"from": [block]}]}, ns="b"))
    assert flow(objs, src, "b/client", 80, semantics=semantics).allowed is allowed


@pytest.mark.parametrize(
    ("protocol", "pod_port"), [("UDP", 5353), ("TCP", 5354)], ids=["udp_port", "tcp_port"]
)
def test_service_port_is_chosen_by_protocol_and_named_target_port_per_protocol(protocol, pod_port):
    dns = build.pod(
        "kube-system",
        "coredns",
        {"k8s-app": "kube-dns"},
        "10.0.9.9",
        ports=[
            {"name": "dns", "containerPort": 5353, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": 5354, "protocol": "TCP"},
        ],
    )
    svc = build.service(
        "kube-system",
        "kube-dns",
        {"k8s-app": "kube-dns"},
        [
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": "dns-tcp"},
        ],
    )
    ev = build.evidence(dns, svc)
    (endpoint,) = peers.resolve(ev, "kube-system/kube-dns", 53, protocol)
    assert endpoint.port == pod_port
