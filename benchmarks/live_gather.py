"""Live gathering benchmark (issue 6: one incident, 1,000 pods and 300 policies, <= 3 s).

    .venv/bin/python benchmarks/live_gather.py

The reference demo plus a generated cluster around it (30 more namespaces, 1,000+ pods with
ReplicaSets, Deployments, Services, EndpointSlices, 300 NetworkPolicies, events, logs) is served
by the tests' fake API server (tests/live/fakeapi.py) on 127.0.0.1; the real `kubernetes`
client gathers through a kubeconfig file, exactly as against a cluster.
Measures (median and worst of several runs):
  1. `live.gather(...)` in-process: what --timeout has to cover; again with every answer
     delayed by 100 ms (a distant API server: the requests run in 4 parallel waves);
  2. `paramedic capture` in a fresh interpreter, start-up and bundle writing included;
  3. `paramedic diagnose` (live, -o json) in a fresh interpreter: what the user waits for.
Prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import copy
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from live import fakeapi, livekit  # noqa: E402
from paramedic.evidence import demos  # noqa: E402

PY = sys.executable
NAMESPACES = 30
DEPLOYMENTS_PER_NS = 6
PODS_PER_DEPLOYMENT = 6
POLICIES_PER_NS = 10
LATENCY = 0.1


def cluster() -> tuple[
    list[dict[str, Any]], dict[tuple[str, str, str], tuple[str, ...]], list[dict[str, Any]]
]:
    seed = demos.load(demos.DEFAULT)
    rng = random.Random(6)
    objects = [copy.deepcopy(o) for o in seed.objects]
    logs = dict(seed.logs)
    spaces = [f"team-{i:02d}" for i in range(NAMESPACES - 2)] + ["app", "data"]
    for ns in spaces:
        if ns not in ("app", "data"):
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {
                        "name": ns,
                        "labels": {"kubernetes.io/metadata.name": ns, "team": ns},
                    },
                }
            )
        for d in range(DEPLOYMENTS_PER_NS):
            name = f"svc-{d}"
            labels = {"app": name, "tier": rng.choice(["web", "api", "worker"])}
            dep = {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": ns, "uid": f"{ns}-{name}"},
                "spec": {
                    "replicas": PODS_PER_DEPLOYMENT,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "containers": [
                                {
                                    "name": "app",
                                    "image": "example/app:1",
                                    "ports": [{"name": "http", "containerPort": 8080}],
                                    "env": [
                                        {
                                            "name": "DB_PASSWORD",
                                            "valueFrom": {
                                                "secretKeyRef": {
                                                    "name": f"{name}-db",
                                                    "key": "password",
                                                }
                                            },
                                        }
                                    ],
                                    "resources": {
                                        "requests": {"cpu": "100m", "memory": "128Mi"},
                                        "limits": {"memory": "256Mi"},
                                    },
                                }
                            ]
                        },
                    },
                },
            }
            rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{name}-5f7d9",
                    "namespace": ns,
                    "uid": f"{ns}-{name}-rs",
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": name,
                            "uid": f"{ns}-{name}",
                            "controller": True,
                        }
                    ],
                },
                "spec": {"selector": {"matchLabels": {"app": name, "pod-template-hash": "5f7d9"}}},
            }
            objects += [dep, rs]
            for p in range(PODS_PER_DEPLOYMENT):
                pod_name = f"{name}-5f7d9-{p:05d}"
                objects.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {
                            "name": pod_name,
                            "namespace": ns,
                            "labels": {**labels, "pod-template-hash": "5f7d9"},
                            "ownerReferences": [
                                {
                                    "apiVersion": "apps/v1",
                                    "kind": "ReplicaSet",
                                    "name": rs["metadata"]["name"],
                                    "uid": rs["metadata"]["uid"],
                                    "controller": True,
                                }
                            ],
                            "managedFields": [
                                {
                                    "manager": "kube-controller-manager",
                                    "time": "2026-11-20T08:00:00Z",
                                }
                            ],
                        },
                        "spec": copy.deepcopy(dep["spec"]["template"]["spec"])
                        | {"nodeName": "node-a"},
                        "status": {
                            "phase": "Running",
                            "podIP": f"10.244.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                            "conditions": [{"type": "Ready", "status": "True"}],
                            "containerStatuses": [
                                {
                                    "name": "app",
                                    "ready": True,
                                    "restartCount": 0,
                                    "state": {"running": {"startedAt": "2026-11-20T08:00:00Z"}},
                                }
                            ],
                        },
                    }
                )
                logs[(ns, pod_name, "app")] = tuple(
                    f"2026-11-26T03:{i % 60:02d}:00Z GET /health 200" for i in range(500)
                )
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {
                        "selector": {"app": name},
                        "clusterIP": f"10.96.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                    },
                }
            )
        for i in range(POLICIES_PER_NS):
            objects.append(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": {"name": f"policy-{i}", "namespace": ns},
                    "spec": {
                        "podSelector": {"matchLabels": {"app": f"svc-{i % DEPLOYMENTS_PER_NS}"}},
                        "policyTypes": ["Ingress"],
                        "ingress": [
                            {
                                "from": [
                                    {
                                        "namespaceSelector": {
                                            "matchLabels": {"team": rng.choice(spaces)}
                                        },
                                        "podSelector": {
                                            "matchExpressions": [
                                                {
                                                    "key": "tier",
                                                    "operator": "In",
                                                    "values": ["web", "api"],
                                                }
                                            ]
                                        },
                                    }
                                ],
                                "ports": [{"protocol": "TCP", "port": 8080}],
                            }
                        ],
                    },
                }
            )
        for i in range(40):
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"ev-{i}", "namespace": ns},
                    "involvedObject": {
                        "kind": "Pod",
                        "namespace": ns,
                        "name": f"svc-{i % 6}-5f7d9-00000",
                    },
                    "reason": "Pulled",
                    "message": "Container image already present",
                    "type": "Normal",
                    "lastTimestamp": "2026-11-26T03:00:00Z",
                }
            )
    return objects, logs, list(seed.metrics)


def _median_worst(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s | {max(values):.2f} s"


def main(runs: int = 7) -> None:
    objects, logs, metrics = cluster()
    pods = sum(1 for o in objects if o["kind"] == "Pod")
    policies = sum(1 for o in objects if o["kind"] == "NetworkPolicy")
    work = Path(tempfile.mkdtemp(prefix="paramedic-bench-"))
    try:
        with fakeapi.FakeApiServer(objects, logs=logs, metrics=metrics) as server:
            config = server.kubeconfig(work / "kubeconfig", namespace="app")
            in_process, requests = [], 0
            for _ in range(runs):
                before = len(server.requests)
                start = time.perf_counter()
                evidence = livekit.gather(config)
                in_process.append(time.perf_counter() - start)
                requests = len(server.requests) - before
                assert not evidence.gaps, evidence.gaps
            server.slow[""] = LATENCY  # every answer takes 100 ms, like a far-away API server
            slow = []
            for _ in range(runs):
                start = time.perf_counter()
                livekit.gather(config)
                slow.append(time.perf_counter() - start)
            server.slow.clear()
            argv = [
                "--from",
                "user-service",
                "--to",
                "profile-db.data",
                "--kubeconfig",
                str(config),
            ]
            capture, diagnose = [], []
            for i in range(runs):
                start = time.perf_counter()
                subprocess.run(
                    [PY, "-m", "paramedic", "capture", *argv, str(work / f"b{i}.tar.gz")],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    timeout=60,
                )
                capture.append(time.perf_counter() - start)
                start = time.perf_counter()
                subprocess.run(
                    [PY, "-m", "paramedic", "diagnose", *argv, "-o", "json"],
                    stdout=subprocess.DEVNULL,
                    timeout=60,
                    check=False,
                )
                diagnose.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"Cluster: {pods} pods, {policies} NetworkPolicies, {len(objects)} objects; "
        f"one incident = {requests} API requests, {len(evidence.objects)} objects kept,"
        f" {runs} runs.\n"
    )
    print("| what | median | worst | target |")
    print("| --- | --- | --- | --- |")
    print(f"| `live.gather` (in-process) | {_median_worst(in_process)} | <= 3 s |")
    print(
        f"| `live.gather`, every answer delayed {LATENCY * 1000:.0f} ms"
        f" | {_median_worst(slow)} | <= 3 s |"
    )
    print(f"| `paramedic capture` (fresh process) | {_median_worst(capture)} | <= 3 s |")
    print(
        f"| `paramedic diagnose` live (fresh process, checks included)"
        f" | {_median_worst(diagnose)} | - |"
    )


if __name__ == "__main__":
    main()
