"""Reading Calico objects: defaults (types, tiers, orders), what is kept as unmodelled, and bad
input as one line naming the object and the field."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.evidence import model as evidence_model
from paramedic.netpol.calico import resources, view

from . import build as b


@pytest.mark.parametrize(
    ("spec", "ingress", "egress"),
    [
        ({}, True, False),
        ({"ingress": [{"action": "Allow"}]}, True, False),
        ({"egress": [{"action": "Allow"}]}, False, True),
        ({"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}]}, True, True),
        ({"types": ["Egress"], "ingress": [{"action": "Allow"}]}, False, True),
        ({"types": ["Ingress", "Egress"]}, True, True),
    ],
)
def test_types_default_from_the_rules_present(
    spec: dict[str, Any], ingress: bool, egress: bool
) -> None:
    policy = resources.parse_policy(b.gnp("p", **spec))
    assert isinstance(policy, resources.Policy)
    assert (policy.ingress, policy.egress) == (ingress, egress)


def test_tier_defaults_and_the_implicit_default_tier() -> None:
    calico = b.calico_view([b.tier("security", 100), b.tier("late"), b.tier("early", 5, "Pass")])
    assert [t.name for t in calico.tiers] == ["early", "security", "default", "late"]
    assert calico.tier("default") == resources.IMPLICIT_DEFAULT_TIER
    assert calico.tier("security").default_action == "Deny"  # type: ignore[union-attr]
    assert calico.tier("early").default_action == "Pass"  # type: ignore[union-attr]


def test_policies_sort_by_tier_then_order_then_name() -> None:
    calico = b.calico_view(
        [
            b.tier("security", 100),
            b.gnp("z", order=1),
            b.gnp("unset"),
            b.gnp("security.b", tier="security", order=5),
            b.gnp("security.a", tier="security", order=5),
            b.np("app", "a", order=1),
        ]
    )
    assert [p.name for p in calico.policies] == ["security.a", "security.b", "a", "z", "unset"]


def test_calico_and_kubernetes_network_policies_are_told_apart_by_group() -> None:
    kube = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {}}
    assert not resources.is_calico(kube)
    assert resources.is_calico(b.np("app", "x"))
    assert resources.is_calico(b.np("app", "x", api=b.CRD))


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({**b.gnp("s", selector="all()"), "kind": "StagedGlobalNetworkPolicy"}, "never enforced"),
        ({**b.np("app", "s"), "kind": "StagedNetworkPolicy"}, "never enforced"),
        (b.gnp("h", preDNAT=True, applyOnForward=True), "preDNAT, applyOnForward: acts on host"),
        (b.gnp("h", doNotTrack=True, applyOnForward=True), "doNotTrack"),
        (b.gnp("h", ingress=[{"action": "Allow", "http": {"methods": ["GET"]}}]), "HTTP match"),
        (
            b.gnp("s", ingress=[{"action": "Allow", "destination": {"services": {"name": "x"}}}]),
            "`services` match",
        ),
        (
            b.gnp("s", ingress=[{"action": "Allow", "protocol": "TCP", "source": {"ports": [80]}}]),
            "source ports",
        ),
        (b.gnp("n", ingress=[{"action": "Allow", "newField": 1}]), "the field 'newField'"),
        (
            {"apiVersion": b.V3, "kind": "HostEndpoint", "metadata": {"name": "eth0"}},
            "a host endpoint",
        ),
    ],
)
def test_what_is_not_evaluated_is_listed_with_why(obj: dict[str, Any], reason: str) -> None:
    calico = b.calico_view([obj])
    assert any(reason in u.reason for u in calico.unmodelled), calico.unmodelled
    assert not calico.invalid


BAD: list[tuple[dict[str, Any], str]] = [
    (b.gnp("deny-db", selector="app = 'db'"),
     "GlobalNetworkPolicy deny-db is invalid (Calico would reject it): spec.selector: "
     "cannot parse selector \"app = 'db'\": expected '==', found '=' alone at column 5"),
    (b.gnp("x", ingress=[{"action": "Reject"}]),
     "spec.ingress[0].action: unknown action 'Reject' (Allow, Deny, Pass, Log)"),
    (b.gnp("x", egress=[{}]), "spec.egress[0].action: missing (Allow, Deny, Pass, Log)"),
    (b.gnp("x", ingress=[{"action": "allow"}]), "unknown action 'allow'"),
    (b.gnp("x", ingress=[{"action": "Allow", "protocol": "TCP",
     "destination": {"ports": ["2000:1000"]}}]),
     "spec.ingress[0].destination.ports[0]: bad port range '2000:1000'"),
    (b.gnp("x", ingress=[{"action": "Allow", "protocol": "TCP",
     "destination": {"ports": [70000]}}]), "port 70000 is above 65535"),
    (b.gnp("x", ingress=[{"action": "Allow", "protocol": "TCP",
     "destination": {"ports": ["web port"]}}]), "bad port 'web port'"),
    (b.gnp("x", ingress=[{"action": "Allow", "destination": {"ports": [80]}}]),
     "spec.ingress[0].destination.ports: numeric ports need the rule's protocol"),
    (b.gnp("x", ingress=[{"action": "Allow", "protocol": "ICMP",
     "destination": {"ports": [80]}}]), "protocol 1 has no ports"),
    (b.gnp("x", ingress=[{"action": "Allow", "protocol": "TCPX"}]),
     "spec.ingress[0].protocol: unknown protocol 'TCPX'"),
    (b.gnp("x", ingress=[{"action": "Allow", "notProtocol": 300}]),
     "spec.ingress[0].notProtocol: protocol number 300 is outside 1-255"),
    (b.gnp("x", types=["Ingres"]), "spec.types[0]: unknown type 'Ingres'"),
    (b.gnp("x", order="first"), "spec.order: 'first' is not a number"),
    (b.np("app", "x", namespaceSelector="all()"),
     "NetworkPolicy app/x is invalid (Calico would reject it): spec.namespaceSelector: only a "
     "GlobalNetworkPolicy has one"),
    (b.gnp("x", ingress=[{"action": "Allow", "source": {"selector": "global()"}}]),
     "spec.ingress[0].source.selector: global() may only be used in a namespaceSelector"),
    (b.gnp("x", ingress=[{"action": "Allow", "source": {
     "namespaceSelector": "global() || a == 'b'"}}]), "global() must be the whole selector"),
    (b.gnp("x", ingress=[{"action": "Allow", "source": {"nets": ["10.0.0.0/33"]}}]),
     "spec.ingress[0].source.nets[0]: '10.0.0.0/33' is not a CIDR"),
    (b.gnp("x", ingress=[{"action": "Allow", "source": {"nets": ["10.0.0.0/8", "fd00::/8"]}}]),
     "mix IPv4 and IPv6"),
    (b.gnp("x", ingress=[{"action": "Allow", "source": {"notSelector": "(a == 'b'"}}]),
     "spec.ingress[0].source.notSelector: cannot parse selector"),
    (b.gnp("x", ingress=[{"action": "Allow", "destination": {
     "serviceAccounts": {"selector": "has("}}}]),
     "spec.ingress[0].destination.serviceAccounts.selector: cannot parse"),
    (b.gnp("x", serviceAccountSelector=5),
     "spec.serviceAccountSelector: a selector must be a string"),
    (b.tier("t", 1, "Allow"), "Tier t is invalid (Calico would reject it): spec.defaultAction"),
    (b.tier("default", 5), "the default tier must have order 1000000"),
    (b.tier("a.b", 5), "metadata.name: 'a.b' is not a tier name"),
    (b.global_set("g", ["not-a-net"]), "GlobalNetworkSet g is invalid (Calico would reject it): "
     "spec.nets[0]: 'not-a-net' is not a CIDR"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "line"), BAD)
def test_bad_input_is_one_line_naming_object_and_field(obj: dict[str, Any], line: str) -> None:
    calico = b.calico_view([obj])
    assert len(calico.invalid) == 1
    described = calico.invalid[0].describe()
    assert line in described
    assert "\n" not in described
    assert not calico.policies


def test_a_view_of_evidence_reads_only_calico_objects() -> None:
    kube = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"namespace": "app", "name": "k"},
        "spec": {"podSelector": {}},
    }
    evidence = evidence_model.Evidence.of([kube, b.np("app", "c"), b.namespace("app", team="web")])
    calico = view.of(evidence)
    assert [p.name for p in calico.policies] == ["c"]
    assert calico.present
