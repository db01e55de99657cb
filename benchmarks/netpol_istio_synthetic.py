"""Istio objects for the synthetic benchmark cluster: sidecars, AuthorizationPolicies and
PeerAuthentications, added on top of `netpol_synthetic.generate(...)` (or any cluster made from
it). Deterministic (seeded). Shaped like a mesh being rolled out:

- injection: ~80 % of the team namespaces labelled `istio-injection=enabled`, their pods run an
  `istio-proxy` container (1 in 10 as a native sidecar: an init container with restartPolicy
  Always), each workload under its own service account;
- PeerAuthentication: mesh-wide STRICT in istio-system; PERMISSIVE in 1 namespace in 8; per
  database workload in 1 in 4 namespaces, portLevelMtls PERMISSIVE on its metrics port;
- AuthorizationPolicies (N in all): one mesh-wide DENY from documentation addresses; then per
  namespace in turn: an ALLOW on its databases naming the principals of same-team API workloads
  on 5432 (about 40 %), a DENY from `dev*` namespaces with an HTTP-only condition that is
  dropped on TCP (20 %), a namespace-wide ALLOW from the team's namespaces with
  `destination.port` and `notPorts` (20 %), an ALLOW whose rule is HTTP-only (it matches no TCP
  connection, 10 %) and an ALLOW by ipBlocks and notPrincipals (10 %).
"""

from __future__ import annotations

import random
from typing import Any

V1 = "security.istio.io/v1"


def generate(
    base: list[dict[str, Any]], policies: int = 500, seed: int = 13
) -> list[dict[str, Any]]:
    """The Istio objects (and the istio-system namespace); sidecars are added to `base` in place."""
    rng = random.Random(seed)
    namespaces = [o for o in base if o["kind"] == "Namespace"]
    teams: dict[str, list[str]] = {}
    injected: set[str] = set()
    for ns in namespaces:
        name = ns["metadata"]["name"]
        if name.startswith("team") and rng.random() < 0.8:
            ns["metadata"]["labels"]["istio-injection"] = "enabled"
            injected.add(name)
        teams.setdefault(ns["metadata"]["labels"]["team"], []).append(name)
    apis: dict[str, list[tuple[str, str]]] = {}
    dbs: dict[str, list[str]] = {}
    for pod in base:
        if pod["kind"] != "Pod" or pod["metadata"]["namespace"] not in injected:
            continue
        ns, labels, spec = pod["metadata"]["namespace"], pod["metadata"]["labels"], pod["spec"]
        if spec.get("hostNetwork") or "app" not in labels:
            continue
        spec["serviceAccountName"] = labels["app"]
        if rng.random() < 0.1:
            spec["initContainers"] = [{"name": "istio-proxy", "restartPolicy": "Always"}]
        else:
            spec["containers"].append({"name": "istio-proxy", "image": "proxyv2:1.24"})
        if labels.get("tier") == "api":
            apis.setdefault(ns, []).append((labels["app"], ns))
        if labels.get("tier") == "db":
            dbs.setdefault(ns, []).append(labels["app"])
    out: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "istio-system",
                      "labels": {"kubernetes.io/metadata.name": "istio-system", "team": "mesh"}}},
        _object("PeerAuthentication", "istio-system", "default", {"mtls": {"mode": "STRICT"}}),
        _object("AuthorizationPolicy", "istio-system", "deny-documentation-nets",
                {"action": "DENY",
                 "rules": [{"from": [{"source": {"ipBlocks": ["203.0.113.0/24",
                                                            "198.51.100.0/24"]}}]}]}),
    ]  # fmt: skip
    spaces = sorted(injected)
    for i, ns in enumerate(spaces):
        if i % 8 == 0:
            out.append(_object("PeerAuthentication", ns, "permissive",
                               {"mtls": {"mode": "PERMISSIVE"}}))  # fmt: skip
        if i % 4 == 0:
            for app in dbs.get(ns, [])[:1]:
                metrics = {"9090": {"mode": "PERMISSIVE"}}
                spec = {"selector": {"matchLabels": {"app": app}}, "portLevelMtls": metrics}
                out.append(_object("PeerAuthentication", ns, f"{app}-metrics", spec))
    made, i = 1, 0
    while made < policies:
        ns = spaces[i % len(spaces)]
        team = next(t for t, names in teams.items() if ns in names)
        kind = i // len(spaces) % 5
        i += 1
        same_team = [(a, n) for n in teams[team] for a, _ in apis.get(n, [])]
        if kind in (0, 1) and dbs.get(ns) and same_team:
            app = rng.choice(dbs[ns])
            principals = sorted({f"cluster.local/ns/{n}/sa/{a}" for a, n in same_team[:6]})
            spec: dict[str, Any] = {
                "selector": {"matchLabels": {"app": app}},
                "rules": [{"from": [{"source": {"principals": principals}}],
                           "to": [{"operation": {"ports": ["5432"]}}]}],
            }  # fmt: skip
            out.append(_object("AuthorizationPolicy", ns, f"{app}-clients-{i}", spec))
        elif kind == 2:
            spec = {"action": "DENY",
                    "rules": [{"from": [{"source": {"namespaces": ["dev*"]}}],
                               "to": [{"operation": {"methods": ["POST"]}}]}]}  # fmt: skip
            out.append(_object("AuthorizationPolicy", ns, f"deny-dev-{i}", spec))
        elif kind == 3:
            spec = {"rules": [{"from": [{"source": {"namespaces": sorted(teams[team])}}],
                               "to": [{"operation": {"notPorts": ["9000"]}}],
                               "when": [{"key": "destination.port",
                                         "values": ["8080", "5432", "6379"]}]}]}  # fmt: skip
            out.append(_object("AuthorizationPolicy", ns, f"team-{i}", spec))
        elif kind == 4 and rng.random() < 0.5:
            admin = {"paths": ["/admin"], "ports": ["8080"]}
            spec = {"selector": {"matchLabels": {"tier": "web"}},
                    "rules": [{"to": [{"operation": admin}]}]}  # fmt: skip
            out.append(_object("AuthorizationPolicy", ns, f"web-admin-{i}", spec))
        else:
            source = {"ipBlocks": ["10.244.0.0/16"], "notPrincipals": [f"*/ns/{ns}/sa/batch"]}
            spec = {"selector": {"matchLabels": {"tier": "cache"}},
                    "rules": [{"from": [{"source": source}]}]}  # fmt: skip
            out.append(_object("AuthorizationPolicy", ns, f"cache-{i}", spec))
        made += 1
    return out


def _object(kind: str, ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": kind,
            "metadata": {"namespace": ns, "name": name,
                         "creationTimestamp": "2026-11-01T00:00:00Z"},
            "spec": spec}  # fmt: skip
