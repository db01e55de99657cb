"""AdminNetworkPolicies (and the BaselineAdminNetworkPolicy) for the synthetic benchmark cluster.

    admin_policies(count=50, seed=7) -> list of objects to add to netpol_synthetic.generate()

Deterministic. Shaped like a platform team's guard rails over the synthetic namespaces (team
labels t0..t39, env prod/staging/dev, kube-system, monitoring): per team, ingress Deny from other
teams' namespaces with a Pass for monitoring first; Allow of DNS egress to kube-system; egress
Deny to a documentation range (networks); Pass of same-team pod traffic to the NetworkPolicy tier;
priorities spread over 0-1000 with some ties. The baseline denies dev -> prod ingress.
"""

from __future__ import annotations

import random
from typing import Any

GROUP_VERSION = "policy.networking.k8s.io/v1alpha1"


def _ns(**labels: str) -> dict[str, Any]:
    return {"matchLabels": dict(labels)}


def _anp(name: str, priority: int, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"priority": priority, **spec},
    }


def admin_policies(count: int = 50, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(count):
        team = f"t{i % 40}"
        priority = rng.randrange(0, 1000)
        shape = i % 5
        if shape == 0:
            spec = {
                "subject": {"namespaces": _ns(team=team)},
                "ingress": [
                    {
                        "name": "monitoring",
                        "action": "Pass",
                        "from": [
                            {"namespaces": _ns(**{"kubernetes.io/metadata.name": "monitoring"})}
                        ],
                    },
                    {
                        "name": "other-teams",
                        "action": "Deny",
                        "from": [
                            {
                                "namespaces": {
                                    "matchExpressions": [
                                        {"key": "team", "operator": "NotIn", "values": [team]}
                                    ]
                                }
                            }
                        ],
                        "ports": [
                            {"portNumber": {"protocol": "TCP", "port": 5432}},
                            {"namedPort": "redis"},
                        ],
                    },
                ],
            }
        elif shape == 1:
            spec = {
                "subject": {"namespaces": _ns(team=team)},
                "egress": [
                    {
                        "name": "dns",
                        "action": "Allow",
                        "to": [
                            {
                                "pods": {
                                    "namespaceSelector": _ns(
                                        **{"kubernetes.io/metadata.name": "kube-system"}
                                    ),
                                    "podSelector": _ns(**{"k8s-app": "kube-dns"}),
                                }
                            }
                        ],
                        "ports": [
                            {"portNumber": {"protocol": "UDP", "port": 53}},
                            {"portNumber": {"protocol": "TCP", "port": 53}},
                        ],
                    },
                ],
            }
        elif shape == 2:
            spec = {
                "subject": {
                    "pods": {
                        "namespaceSelector": _ns(env="prod"),
                        "podSelector": _ns(tier=rng.choice(("web", "api"))),
                    }
                },
                "egress": [
                    {
                        "name": "no-doc-range",
                        "action": "Deny",
                        "to": [{"networks": ["203.0.113.0/24", "198.51.100.0/24"]}],
                    },
                ],
            }
        elif shape == 3:
            spec = {
                "subject": {"namespaces": _ns(team=team)},
                "ingress": [
                    {
                        "name": "same-team",
                        "action": "Pass",
                        "from": [{"namespaces": _ns(team=team)}],
                    },
                    {
                        "name": "staging-to-db",
                        "action": "Deny",
                        "from": [{"namespaces": _ns(env="staging")}],
                        "ports": [{"portRange": {"protocol": "TCP", "start": 5000, "end": 6000}}],
                    },
                ],
            }
        else:
            spec = {
                "subject": {"pods": {"namespaceSelector": {}, "podSelector": _ns(tier="db")}},
                "ingress": [
                    {
                        "name": "api-to-db",
                        "action": "Allow",
                        "from": [
                            {
                                "pods": {
                                    "namespaceSelector": _ns(team=team),
                                    "podSelector": _ns(tier="api"),
                                }
                            }
                        ],
                        "ports": [{"namedPort": "postgres"}],
                    },
                ],
            }
        out.append(_anp(f"guard-{i}-{team}", priority, spec))
    out.append(
        {
            "apiVersion": GROUP_VERSION,
            "kind": "BaselineAdminNetworkPolicy",
            "metadata": {"name": "default"},
            "spec": {
                "subject": {"namespaces": _ns(env="prod")},
                "ingress": [
                    {"name": "no-dev", "action": "Deny", "from": [{"namespaces": _ns(env="dev")}]}
                ],
            },
        }
    )
    return out
