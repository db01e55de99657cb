"""Cilium policies for the synthetic cluster (`netpol_synthetic`): N CiliumNetworkPolicies and
CiliumClusterwideNetworkPolicies in the shapes teams write, with deny rules and entities.

Deterministic (seeded). Added to the base cluster (its namespaces, workloads and pods):
- the `cilium` DaemonSet (so `--cni auto` detects Cilium) and two CiliumCIDRGroups;
- per team (40): a clusterwide `ingressDeny` from `env: dev` namespaces into the team's prod
  databases (`io.cilium.k8s.namespace.labels.*`), and an `egressDeny` to the metadata address
  for every pod of the team;
- per namespace: egress to `world` on 443 and to kube-dns on 53 (with a DNS rule), an
  `egressDeny` to a partner CIDR group with an except, ingress of metrics from the monitoring
  namespace by `k8s:io.kubernetes.pod.namespace` on the named port, `fromEntities: [cluster]`
  health checks on a port range (some with `enableDefaultDeny: {ingress: false}`);
- per workload until N: ingress from same-namespace apps (`k8s:` keys, matchExpressions),
  cross-namespace clients, `fromEntities: [remote-node]`, `fromCIDRSet` with except, numeric,
  named and ranged ports, protocol ANY, and `ingressDeny` of one version.

    python benchmarks/netpol_cilium_synthetic.py OUT.json [--pods 10000 --policies 5000
        --namespaces 200 --cilium 1000]
writes the whole cluster as a bundle objects file (`paramedic netpol matrix OUT.json --port 5432`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import netpol_synthetic

API = "cilium.io/v2"
NS = "k8s:io.kubernetes.pod.namespace"
NS_LABEL = "io.cilium.k8s.namespace.labels."


def generate(
    base: list[dict[str, Any]], count: int = 1_000, seed: int = 11
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    spaces = [o for o in base if o["kind"] == "Namespace"]
    apps: dict[str, list[tuple[str, str, list[str]]]] = {}
    for o in base:
        if o["kind"] == "Pod" and "tier" in o["metadata"]["labels"]:
            labels = o["metadata"]["labels"]
            ports = [p["name"] for c in o["spec"]["containers"] for p in c.get("ports", [])]
            found = apps.setdefault(o["metadata"]["namespace"], [])
            if not any(a == labels["app"] for a, _, _ in found):
                found.append((labels["app"], labels["tier"], ports))
    out: list[dict[str, Any]] = [
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"namespace": "kube-system", "name": "cilium",
                      "labels": {"k8s-app": "cilium"}},
         "spec": {"selector": {"matchLabels": {"k8s-app": "cilium"}}}},
        {"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumCIDRGroup",
         "metadata": {"name": "partners", "labels": {"kind": "partner"}},
         "spec": {"externalCIDRs": ["198.51.100.0/24", "203.0.113.0/24"]}},
        {"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumCIDRGroup",
         "metadata": {"name": "office", "labels": {"kind": "office"}},
         "spec": {"externalCIDRs": ["192.0.2.0/24"]}},
    ]  # fmt: skip
    made = 0

    def add(kind: str, name: str, spec: dict[str, Any], namespace: str = "") -> None:
        nonlocal made
        if made >= count:
            return
        meta = {"name": name, **({"namespace": namespace} if namespace else {})}
        out.append({"apiVersion": API, "kind": kind, "metadata": meta, "spec": spec})
        made += 1

    teams = sorted({o["metadata"]["labels"]["team"] for o in spaces})
    for team in teams:
        add(
            "CiliumClusterwideNetworkPolicy",
            f"{team}-no-dev-into-prod-db",
            {
                "endpointSelector": {
                    "matchLabels": {"tier": "db", f"{NS_LABEL}team": team, f"{NS_LABEL}env": "prod"}
                },
                "ingressDeny": [{"fromEndpoints": [{"matchLabels": {f"{NS_LABEL}env": "dev"}}]}],
            },
        )
        add(
            "CiliumClusterwideNetworkPolicy",
            f"{team}-no-metadata",
            {
                "endpointSelector": {"matchLabels": {f"{NS_LABEL}team": team}},
                "egressDeny": [{"toCIDR": ["169.254.169.254/32"]}],
                "enableDefaultDeny": {"egress": False},
            },
        )
    for o in spaces:
        ns = o["metadata"]["name"]
        if ns in ("kube-system", "monitoring") or ns not in apps:
            continue
        add(
            "CiliumNetworkPolicy",
            "egress-baseline",
            {
                "endpointSelector": {
                    "matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["web", "api"]}
                    ]
                },
                "egress": [
                    {
                        "toEntities": ["world"],
                        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                    },
                    {
                        "toEndpoints": [
                            {"matchLabels": {NS: "kube-system", "k8s-app": "kube-dns"}}
                        ],
                        "toPorts": [
                            {
                                "ports": [{"port": "53", "protocol": "ANY"}],
                                "rules": {"dns": [{"matchPattern": "*"}]},
                            }
                        ],
                    },
                    {"toEndpoints": [{}]},
                    {
                        "toEndpoints": [
                            {
                                "matchLabels": {"tier": "db"},
                                "matchExpressions": [{"key": NS, "operator": "Exists"}],
                            }
                        ],
                        "toPorts": [{"ports": [{"port": "postgres"}]}],
                    },
                ],
                "egressDeny": [
                    {"toCIDRSet": [{"cidrGroupRef": "partners", "except": ["198.51.100.0/28"]}]}
                ],
            },
            ns,
        )
        add(
            "CiliumNetworkPolicy",
            "metrics-and-health",
            {
                "endpointSelector": {},
                "ingress": [
                    {
                        "fromEndpoints": [
                            {"matchLabels": {NS: "monitoring", "k8s:app": "prometheus"}}
                        ],
                        "toPorts": [{"ports": [{"port": "metrics", "protocol": "TCP"}]}],
                    },
                    {
                        "fromEntities": ["cluster"],
                        "toPorts": [{"ports": [{"port": "8000", "endPort": 8100}]}],
                    },
                ],
                **({"enableDefaultDeny": {"ingress": False}} if rng.random() < 0.3 else {}),
            },
            ns,
        )
    everything = [(ns, a) for ns, found in sorted(apps.items()) for a in found]
    rng.shuffle(everything)
    i = 0
    while made < count and everything:
        ns, (app, tier, ports) = everything[i % len(everything)]
        peer_ns, (peer, _, _) = rng.choice(everything)
        port = rng.choice([*ports, "5432", "8080"]) if ports else "8080"
        rules: list[dict[str, Any]] = [
            {
                "fromEndpoints": [
                    {"matchLabels": {"k8s:app": f"{tier}-{i % 7}"}},
                    {"matchExpressions": [{"key": "app", "operator": "In", "values": [peer, app]}]},
                ],
                "toPorts": [
                    {"ports": [{"port": str(port), "protocol": rng.choice(("TCP", "ANY"))}]}
                ],
            },
            {
                "fromEndpoints": [{"matchLabels": {NS: peer_ns, "app": peer}}],
                "toPorts": [{"ports": [{"port": str(port)}]}],
            },
        ]
        if rng.random() < 0.3:
            rules.append({"fromEntities": ["remote-node"]})
        if rng.random() < 0.3:
            rules.append(
                {
                    "fromCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16"]}],
                    "toPorts": [{"ports": [{"port": "5000", "endPort": 6000}]}],
                }
            )
        spec: dict[str, Any] = {"endpointSelector": {"matchLabels": {"app": app}}, "ingress": rules}
        if rng.random() < 0.2:
            spec["ingressDeny"] = [
                {
                    "fromEndpoints": [{"matchLabels": {"version": "v2"}}],
                    "toPorts": [{"ports": [{"port": str(port)}]}],
                }
            ]
        add("CiliumNetworkPolicy", f"{app}-ingress-{i}", spec, ns)
        i += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=5_000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--cilium", type=int, default=1_000)
    args = parser.parse_args()
    objs = netpol_synthetic.generate(args.pods, args.policies, args.namespaces)
    objs += generate(objs, args.cilium)
    Path(args.out).write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))


if __name__ == "__main__":
    main()
