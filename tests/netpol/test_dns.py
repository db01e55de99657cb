"""dns_egress: UDP and TCP 53 from a pod to every kube-dns pod (or a synthetic one)."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.netpol import engine

from . import build

CLIENT = build.pod("app", "client", {"app": "client"}, "10.0.0.1")
DNS_POD = build.pod(
    "kube-system",
    "coredns-1",
    {"k8s-app": "kube-dns"},
    "10.0.9.9",
    ports=[
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "containerPort": 53},
    ],
)
ALLOW_DNS_UDP = build.policy(
    "app",
    "dns",
    {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                        },
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"port": 53, "protocol": "UDP"}],
            }
        ],
    },
)
DENY_OUT = build.policy("app", "deny", {"podSelector": {}, "policyTypes": ["Egress"]})


@pytest.mark.parametrize(
    ("objs", "expected"),
    [
        ([CLIENT, DNS_POD], {("UDP", True), ("TCP", True)}),
        ([CLIENT, DNS_POD, DENY_OUT], {("UDP", False), ("TCP", False)}),
        ([CLIENT, DNS_POD, ALLOW_DNS_UDP], {("UDP", True), ("TCP", False)}),
        ([CLIENT, ALLOW_DNS_UDP], {("UDP", True), ("TCP", False)}),
    ],
    ids=[
        "no_policy",
        "default_deny_egress_blocks_dns",
        "udp_only_blocks_tcp_fallback",
        "synthetic_kube_dns_when_no_pod_in_evidence",
    ],
)
def test_dns_egress_per_protocol(objs: list[dict[str, Any]], expected):
    results = engine.dns_egress(build.evidence(*objs), CLIENT)
    assert {(r.protocol, r.egress.allowed) for r in results} == expected
    assert all(r.port == 53 and r.dst.startswith("kube-system/") for r in results)
    assert engine.dns_blocked(build.evidence(*objs), CLIENT) is (not all(ok for _, ok in expected))
