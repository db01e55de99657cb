"""Calico policies for the synthetic benchmark cluster: N policies in 3 tiers, plus network sets.

Added on top of `netpol_synthetic.generate(...)` (it reads the namespaces and pods made there).
Deterministic (seeded). Shaped like a real Calico estate:

- tier `security` (order 100, Deny at its end) - about 10 %: GlobalNetworkPolicies per team
  that select the team's databases and caches (`tier in {...} && projectcalico.org/namespace
  starts with 'teamN-'`), Pass from the team's own namespaces (namespaceSelector), Deny from
  `env == 'dev'` namespaces, then Pass; and a few cluster-wide egress Deny rules to the
  metadata address and to blocked GlobalNetworkSets, then Pass;
- tier `platform` (order 200, defaultAction Pass) - about 30 %: monitoring access on the named
  metrics port, DNS egress, and per-namespace Calico NetworkPolicies that Pass same-team
  traffic and Deny a port range from other teams;
- the `default` tier - the rest: per-workload Calico NetworkPolicies (order 500) with Allow
  rules by `app in {...}`, `has()`, `starts with`, serviceAccounts, GlobalNetworkSets
  (namespaceSelector global()), numeric, range and named ports, `notPorts`, and Deny rules.
"""

from __future__ import annotations

import random
from typing import Any

V3 = "projectcalico.org/v3"
NAMESPACE = "projectcalico.org/namespace"


def generate(
    base: list[dict[str, Any]], policies: int = 1000, seed: int = 11
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    namespaces = [o for o in base if o["kind"] == "Namespace"]
    teams = sorted({o["metadata"]["labels"]["team"] for o in namespaces})
    apps: dict[str, list[tuple[str, str]]] = {}
    for pod in base:
        if (
            pod["kind"] == "Pod"
            and "app" in pod["metadata"]["labels"]
            and "tier" in pod["metadata"]["labels"]
        ):
            labels = pod["metadata"]["labels"]
            apps.setdefault(pod["metadata"]["namespace"], [])
            if (labels["app"], labels["tier"]) not in apps[pod["metadata"]["namespace"]]:
                apps[pod["metadata"]["namespace"]].append((labels["app"], labels["tier"]))
    out: list[dict[str, Any]] = [
        {
            "apiVersion": V3,
            "kind": "Tier",
            "metadata": {"name": "security"},
            "spec": {"order": 100},
        },
        {
            "apiVersion": V3,
            "kind": "Tier",
            "metadata": {"name": "platform"},
            "spec": {"order": 200, "defaultAction": "Pass"},
        },
    ]
    for i in range(20):
        out.append(
            {
                "apiVersion": V3,
                "kind": "GlobalNetworkSet",
                "metadata": {
                    "name": f"partners-{i}",
                    "labels": {"partner": f"p{i}", "blocked": str(i % 5 == 0).lower()},
                },
                "spec": {"nets": [f"198.51.{i}.0/24", f"203.0.{i}.0/25"]},
            }
        )
    made = 0

    def add(obj: dict[str, Any]) -> None:
        nonlocal made
        if made < policies:
            out.append(obj)
            made += 1

    def gnp(name: str, **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": V3,
            "kind": "GlobalNetworkPolicy",
            "metadata": {"name": name},
            "spec": spec,
        }

    def np(ns: str, name: str, **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": V3,
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        }

    security = policies // 10
    for k in range(security):
        if k < 3:
            add(
                gnp(
                    f"security.egress-guard-{k}",
                    tier="security",
                    order=10 + k,
                    selector="all()",
                    types=["Egress"],
                    egress=[
                        {"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}},
                        {"action": "Deny", "destination": {"selector": "blocked == 'true'"}},
                        {"action": "Pass"},
                    ],
                )
            )
            continue
        team = teams[k % len(teams)]
        prefix = f"team{int(team[1:]) % 40}-"
        add(
            gnp(
                f"security.team-{k}",
                tier="security",
                order=100 + k,
                selector=f"tier in {{'db', 'cache'}} && {NAMESPACE} starts with '{prefix}'",
                ingress=[
                    {"action": "Pass", "source": {"namespaceSelector": f"team == '{team}'"}},
                    {"action": "Deny", "source": {"namespaceSelector": "env == 'dev'"}},
                    {"action": "Pass"},
                ],
            )
        )
    platform = policies * 3 // 10
    add(
        gnp(
            "platform.monitoring",
            tier="platform",
            order=10,
            selector="has(app)",
            ingress=[
                {
                    "action": "Allow",
                    "protocol": "TCP",
                    "source": {"namespaceSelector": "projectcalico.org/name == 'monitoring'"},
                    "destination": {"ports": ["metrics"]},
                },
            ],
        )
    )
    add(
        gnp(
            "platform.dns",
            tier="platform",
            order=20,
            selector="all()",
            types=["Egress"],
            egress=[
                {
                    "action": "Allow",
                    "protocol": "UDP",
                    "destination": {
                        "ports": [53],
                        "namespaceSelector": "projectcalico.org/name == 'kube-system'",
                    },
                },
                {"action": "Pass"},
            ],
        )
    )
    spaces = sorted(apps)
    for k in range(platform - 2):
        ns = spaces[k % len(spaces)]
        team = next(
            o["metadata"]["labels"]["team"] for o in namespaces if o["metadata"]["name"] == ns
        )
        add(
            np(
                ns,
                f"platform.team-{k}",
                tier="platform",
                order=100 + k % 50,
                selector=rng.choice(("all()", "tier != 'worker'", "has(version)")),
                ingress=[
                    {"action": "Pass", "source": {"namespaceSelector": f"team == '{team}'"}},
                    {"action": "Deny", "protocol": "TCP", "destination": {"ports": ["6000:6999"]}},
                    {"action": "Pass"},
                ],
            )
        )
    k = 0
    while made < policies:
        ns = spaces[k % len(spaces)]
        k += 1
        app, tier = rng.choice(apps[ns])
        peers = [a for a, _ in rng.sample(apps[ns], min(3, len(apps[ns])))]
        values = ", ".join(f"'{a}'" for a in peers)
        port: Any = {"db": "postgres", "cache": "redis"}.get(tier) or rng.choice(
            (8080, "8000:8100", "http")
        )
        rules = [
            {"action": "Deny", "source": {"selector": "version == 'v2' && tier == 'worker'"}},
            {
                "action": "Allow",
                "protocol": "TCP",
                "source": {"selector": f"app in {{{values}}}"},
                "destination": {"ports": [port]},
            },
            {
                "action": "Allow",
                "protocol": "TCP",
                "source": {
                    "selector": "tier starts with 'ap'",
                    "namespaceSelector": f"env == '{rng.choice(('prod', 'staging'))}'",
                },
                "destination": {"ports": [port], "notPorts": [9090]},
            },
            {
                "action": "Allow",
                "protocol": "TCP",
                "source": {"selector": f"partner == 'p{k % 20}'", "namespaceSelector": "global()"},
            },
            {
                "action": "Allow",
                "source": {
                    "serviceAccounts": {"names": ["default"]},
                    "namespaceSelector": "has(team)",
                },
                "protocol": 6,
                "destination": {"ports": [5432, 6379]},
            },
        ]
        add(
            np(
                ns,
                f"allow-{app}-{k}",
                order=500,
                selector=f"app == '{app}'",
                ingress=rng.sample(rules, rng.randint(2, 5)),
            )
        )
    return out
