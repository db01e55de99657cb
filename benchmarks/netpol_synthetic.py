"""A synthetic cluster for the NetworkPolicy benchmarks: N pods, P policies, S namespaces.

Deterministic (seeded). Distributions meant to look like a real multi-team cluster:
- namespaces carry team/env labels (and kubernetes.io/metadata.name, as the API server adds);
- workloads have Zipf-like replica counts (most 1-3, a few dozens), pod-template-hash labels,
  StatefulSet pod-name labels for databases, named container ports (http, metrics, postgres,
  redis);
- pods are spread over nodes with a /24 pod CIDR each; a node-exporter DaemonSet runs with
  hostNetwork on every node;
- policies per namespace: default-deny ingress (all), default-deny egress + allow-dns (half),
  allow-same-namespace, allow-from-monitoring on the named metrics port; then per-workload
  ingress allow-lists (pod selectors, namespace+pod selectors, ipBlocks with except, named and
  numeric ports, port ranges) and egress allow-lists to databases and to the internet, until
  P policies exist.

    python benchmarks/netpol_synthetic.py OUT.json [--pods 10000 --policies 5000 --namespaces 200]
writes a bundle objects file usable with `paramedic netpol matrix OUT.json --port 5432`.
"""

from __future__ import annotations

import argparse
import json
import random
from typing import Any

TIERS = ("web", "api", "worker", "db", "cache")
TIER_WEIGHTS = (3, 4, 2, 1, 1)
PORTS = {
    "web": [("http", 8080)],
    "api": [("http", 8080), ("grpc", 9000)],
    "worker": [],
    "db": [("postgres", 5432)],
    "cache": [("redis", 6379)],
}
NODES = 100


def generate(
    pods: int = 10_000, policies: int = 5_000, namespaces: int = 200, seed: int = 7
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    objs: list[dict[str, Any]] = []
    names = ["kube-system", "monitoring"] + [f"team{i % 40}-svc{i}" for i in range(namespaces - 2)]
    for i, ns in enumerate(names):
        labels = {
            "kubernetes.io/metadata.name": ns,
            "team": f"t{i % 40}",
            "env": rng.choice(("prod", "prod", "staging", "dev")),
        }
        objs.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}
        )
    node_fill = [0] * NODES
    workloads: list[tuple[str, str, str]] = []  # (ns, app, tier)
    count = 0

    def add_pod(
        ns: str,
        name: str,
        labels: dict[str, str],
        ports: list[tuple[str, int]],
        host: bool = False,
        node: int | None = None,
    ) -> None:
        nonlocal count
        k = rng.randrange(NODES) if node is None else node
        node_fill[k] += 1
        node_ip = f"192.168.{k // 250}.{k % 250 + 1}"
        ip = node_ip if host else f"10.{244 + k // 256}.{k % 256}.{node_fill[k] % 250 + 2}"
        spec: dict[str, Any] = {
            "containers": [
                {
                    "name": "main",
                    "image": "app:1",
                    "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports],
                }
            ]
        }
        if host:
            spec["hostNetwork"] = True
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": spec,
                "status": {"phase": "Running", "podIP": ip, "hostIP": node_ip},
            }
        )
        count += 1

    for i in range(2):
        add_pod(
            "kube-system",
            f"coredns-{i}",
            {"k8s-app": "kube-dns", "pod-template-hash": "5d78"},
            [("dns", 53)],
        )
    add_pod(
        "monitoring",
        "prometheus-0",
        {"app": "prometheus", "statefulset.kubernetes.io/pod-name": "prometheus-0"},
        [],
    )
    for k in range(NODES):
        add_pod(
            "monitoring",
            f"node-exporter-{k}",
            {"app": "node-exporter"},
            [("metrics", 9100)],
            host=True,
            node=k,
        )
    w = 0
    while count < pods:
        ns = names[2 + rng.randrange(len(names) - 2)]
        tier = rng.choices(TIERS, TIER_WEIGHTS)[0]
        app = f"{tier}-{w}"
        w += 1
        replicas = min(pods - count, max(1, int(rng.paretovariate(1.6))), 60)
        workloads.append((ns, app, tier))
        base = {"app": app, "tier": tier, "version": rng.choice(("v1", "v1", "v2"))}
        ports = [*PORTS[tier], ("metrics", 9090)]
        for r in range(replicas):
            if tier == "db":
                labels = {**base, "statefulset.kubernetes.io/pod-name": f"{app}-{r}"}
                name = f"{app}-{r}"
            else:
                labels = {**base, "pod-template-hash": f"{w:x}f9"}
                name = f"{app}-{w:x}f9-{r:05d}"
            add_pod(ns, name, labels, ports)

    made = 0

    def add_policy(ns: str, name: str, spec: dict[str, Any]) -> None:
        nonlocal made
        if made >= policies:
            return
        objs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": ns},
                "spec": spec,
            }
        )
        made += 1

    def name_sel(ns: str) -> dict[str, Any]:
        return {"matchLabels": {"kubernetes.io/metadata.name": ns}}

    for i, ns in enumerate(names[2:]):
        add_policy(ns, "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
        add_policy(
            ns,
            "allow-monitoring",
            {
                "podSelector": {},
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": name_sel("monitoring"),
                                "podSelector": {"matchLabels": {"app": "prometheus"}},
                            }
                        ],
                        "ports": [{"port": "metrics"}],
                    }
                ],
            },
        )
        if i % 2 == 0:
            add_policy(ns, "default-deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})
            add_policy(
                ns,
                "allow-dns",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": name_sel("kube-system"),
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": [
                                {"port": 53, "protocol": "UDP"},
                                {"port": 53, "protocol": "TCP"},
                            ],
                        }
                    ],
                },
            )
        if i % 3 == 0:
            add_policy(
                ns,
                "allow-same-namespace",
                {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]},
            )
    dbs = [wl for wl in workloads if wl[2] == "db"]
    j = 0
    while made < policies:
        ns, app, tier = workloads[j % len(workloads)]
        j += 1
        kind = rng.random()
        sel = {"matchLabels": {"app": app}}
        if kind < 0.35:
            src_tier = "api" if tier == "db" else "web"
            add_policy(
                ns,
                f"{app}-from-{src_tier}-{j}",
                {
                    "podSelector": sel,
                    "ingress": [
                        {
                            "from": [{"podSelector": {"matchLabels": {"tier": src_tier}}}],
                            "ports": [{"port": PORTS[tier][0][0] if PORTS[tier] else 8080}],
                        }
                    ],
                },
            )
        elif kind < 0.6:
            other = rng.choice(workloads)
            add_policy(
                ns,
                f"{app}-from-{other[1]}-{j}",
                {
                    "podSelector": sel,
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {"team": f"t{rng.randrange(40)}"}
                                    },
                                    "podSelector": {"matchLabels": {"app": other[1]}},
                                },
                                {
                                    "namespaceSelector": name_sel(other[0]),
                                    "podSelector": {
                                        "matchExpressions": [
                                            {
                                                "key": "tier",
                                                "operator": "In",
                                                "values": ["api", "worker"],
                                            }
                                        ]
                                    },
                                },
                            ],
                            "ports": [{"port": 5432}, {"port": 8000, "endPort": 8100}],
                        }
                    ],
                },
            )
        elif kind < 0.7:
            add_policy(
                ns,
                f"{app}-from-lb-{j}",
                {
                    "podSelector": sel,
                    "ingress": [
                        {
                            "from": [
                                {"ipBlock": {"cidr": "10.10.0.0/16", "except": ["10.10.128.0/17"]}},
                                {
                                    "ipBlock": {
                                        "cidr": f"10.{244 + rng.randrange(2)}"
                                        f".{rng.randrange(100)}.0/24"
                                    }
                                },
                            ],
                            "ports": [{"port": "http"}],
                        }
                    ],
                },
            )
        elif kind < 0.9 and dbs:
            db_ns, db_app, _ = rng.choice(dbs)
            add_policy(
                ns,
                f"{app}-to-{db_app}-{j}",
                {
                    "podSelector": sel,
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": name_sel(db_ns),
                                    "podSelector": {"matchLabels": {"app": db_app}},
                                }
                            ],
                            "ports": [{"port": "postgres"}],
                        }
                    ],
                },
            )
        else:
            add_policy(
                ns,
                f"{app}-to-internet-{j}",
                {
                    "podSelector": sel,
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "ipBlock": {
                                        "cidr": "0.0.0.0/0",
                                        "except": ["10.0.0.0/8", "192.168.0.0/16"],
                                    }
                                }
                            ],
                            "ports": [{"port": 443}],
                        }
                    ],
                },
            )
    return objs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=5_000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    objs = generate(args.pods, args.policies, args.namespaces, args.seed)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, handle)


if __name__ == "__main__":
    main()
