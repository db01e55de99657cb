"""The Cilium layer's parts that the conformance set cannot show through `netpol assert`: what
is listed as not evaluated (and why), CNI detection, and a bad policy in a diagnosis."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.checks import model, network_policy
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster, engine, layers, peers
from paramedic.netpol.layers import cni

from ..test_check import context


def cnp(spec: dict[str, Any], name: str = "p", namespace: str = "data") -> dict[str, Any]:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}  # fmt: skip


DB = {"matchLabels": {"app": "profile-db"}}


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"endpointSelector": DB, "egress": [{"toFQDNs": [{"matchName": "x.example.com"}]}]},
         "spec.egress[0].toFQDNs: peers chosen by DNS names are resolved at run time"),
        ({"endpointSelector": DB, "egress": [{"toServices": [{"k8sService": {
            "serviceName": "s", "namespace": "data"}}]}]},
         "spec.egress[0].toServices: peers chosen by Services are resolved at run time"),
        ({"endpointSelector": DB, "ingress": [{"toPorts": [{"ports": [{"port": "80",
            "protocol": "TCP"}], "rules": {"http": [{"method": "GET"}]}}]}]},
         "spec.ingress[0].toPorts[0].rules: http rules are judged per request"),
        ({"endpointSelector": DB, "egress": [{"toEntities": ["host"]}]},
         "toEntities host is relative to the source's node"),
        ({"endpointSelector": DB, "ingress": [{"fromEndpoints": [
            {"matchLabels": {"reserved:host": ""}}]}]},
         "spec.ingress[0].fromEndpoints[0]: selects reserved or non-pod identities (reserved)"),
    ],
)  # fmt: skip
def test_what_is_not_evaluated_is_listed_with_why(spec: dict[str, Any], why: str) -> None:
    ev = evidence_model.Evidence.of((*demos.load("healthy").objects, cnp(spec)))
    program = layers.program(cluster.of(ev), "cilium")
    (item,) = program.unmodelled
    assert item.ref == "CiliumNetworkPolicy data/p" and why in item.why
    assert item.command == "kubectl get ciliumnetworkpolicies.cilium.io p -n data -o yaml"


def test_a_host_policy_is_read_but_not_evaluated() -> None:
    host = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": "hosts"},
            "spec": {"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}  # fmt: skip
    program = layers.program(cluster.of(evidence_model.Evidence.of((host,))), "cilium")
    assert [u.why for u in program.unmodelled] == [
        "spec.nodeSelector: a host-firewall policy (it applies to nodes, not pods)"
    ]
    assert all(not t.policies for t in program.tiers)


@pytest.mark.parametrize(
    ("objs", "expected"),
    [
        ([{"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "cilium-config", "namespace": "kube-system"}}],
         ("cilium", "ConfigMap kube-system/cilium-config is its configuration")),
        ([{"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "calico-config", "namespace": "kube-system"}}],
         ("calico", "ConfigMap kube-system/calico-config is its configuration")),
        ([{"apiVersion": "apps/v1", "kind": "DaemonSet",
           "metadata": {"name": "canal", "namespace": "kube-system"}}],
         ("calico", "DaemonSet kube-system/canal is its agent")),
        ([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cilium-x2", "namespace":
           "kube-system", "labels": {"k8s-app": "cilium"}}},
          {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "calico-config", "namespace": "kube-system"}}],
         ("cilium", "Pod kube-system/cilium-x2 is its agent")),
        ([{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "ciliumnetworkpolicies.cilium.io"}}],
         ("cilium", "CustomResourceDefinition ciliumnetworkpolicies.cilium.io is installed")),
    ],
)  # fmt: skip
def test_the_cni_is_read_from_the_strongest_evidence(
    objs: list[dict[str, Any]], expected: tuple[str, str]
) -> None:
    assert cni.detect(cluster.of(evidence_model.Evidence.of(tuple(objs)))) == expected


def test_a_bad_cilium_policy_makes_the_check_inconclusive_naming_the_field() -> None:
    healthy = demos.load("healthy")
    bad = cnp({"endpointSelector": DB, "ingress": [{"fromEntities": ["everyone"]}]})
    ev = evidence_model.Evidence.of((*healthy.objects, bad), incident=healthy.incident)
    finding = network_policy.run(context(ev))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    text = " ".join([finding.summary, *(c.text for c in finding.evidence)])
    assert "CiliumNetworkPolicy data/p" in text
    assert "spec.ingress[0].fromEntities[0]: unsupported entity 'everyone'" in text


def test_a_deny_rule_beats_the_networkpolicy_that_admits_the_client() -> None:
    healthy = demos.load("healthy")
    deny = cnp({"endpointSelector": DB,
                "ingressDeny": [{"fromEndpoints": [{"matchLabels": {
                    "k8s:io.kubernetes.pod.namespace": "app"}}]}]})  # fmt: skip
    ev = evidence_model.Evidence.of((*healthy.objects, deny))
    semantics, _ = engine.semantics_for(ev)
    src = peers.resolve(ev, "app/user-service-7d9f8b6c5d-x2x9k", source=True)[0].peer
    (dst,) = peers.resolve(ev, "data/profile-db", 5432)
    result = engine.check_flow(ev, src, dst.peer, dst.port, "TCP", semantics)
    assert result.allowed is False and result.semantics == "cilium"
    assert result.ingress.reason == (
        "denied by CiliumNetworkPolicy data/p, tier cilium-deny, ingressDeny[0]: Deny"
    )
