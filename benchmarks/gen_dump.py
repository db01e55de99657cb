"""Generate a large `kubectl get -A -o yaml`-style dump for the loader benchmark.

    python benchmarks/gen_dump.py 50000 /tmp/dump.yaml

Realistic mix: per namespace a few Deployments with ReplicaSets and 1-6 pods each, Services,
EndpointSlices, ConfigMaps, Secrets (digests only) and Events; one v1 List like kubectl prints.
Deterministic (seeded) so runs are comparable.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import yaml_rs


def _kubectl_noise(name: str, rng: random.Random) -> dict:
    """The fields kubectl prints on every real pod (volumes, tolerations, defaults)."""
    return {
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "serviceAccount": "default",
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [
            {
                "effect": "NoExecute",
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "tolerationSeconds": 300,
            },
            {
                "effect": "NoExecute",
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "tolerationSeconds": 300,
            },
        ],
        "volumes": [
            {
                "name": f"kube-api-access-{rng.getrandbits(20):05x}",
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {
                            "configMap": {
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                "name": "kube-root-ca.crt",
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "fieldRef": {
                                            "apiVersion": "v1",
                                            "fieldPath": "metadata.namespace",
                                        },
                                        "path": "namespace",
                                    }
                                ]
                            }
                        },
                    ],
                },
            }
        ],
    }


def _pod(ns: str, app: str, rs: str, i: int, rng: random.Random) -> dict:
    name = f"{rs}-{rng.getrandbits(24):06x}"
    noise = _kubectl_noise(name, rng)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"{rng.getrandbits(64):016x}",
            "labels": {
                "app": app,
                "pod-template-hash": rs.rsplit("-", 1)[1],
                "tier": rng.choice(["web", "api", "db", "worker"]),
            },
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "controller": True}
            ],
        },
        "spec": {
            **noise,
            "nodeName": f"node-{rng.randrange(50)}",
            "containers": [
                {
                    "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "volumeMounts": [
                        {
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                            "name": noise["volumes"][0]["name"],
                            "readOnly": True,
                        }
                    ],
                    "readinessProbe": {
                        "httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10,
                        "timeoutSeconds": 1,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "name": "app",
                    "image": f"registry.example/{app}:1.{rng.randrange(40)}",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": "DB_HOST", "value": f"db.{ns}.svc.cluster.local"}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"memory": "256Mi"},
                    },
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{i % 250 + 2}",
            "hostIP": f"10.0.{rng.randrange(4)}.{rng.randrange(2, 250)}",
            "qosClass": "Burstable",
            "startTime": "2026-11-25T10:00:00Z",
            "conditions": [
                {
                    "type": t,
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": "2026-11-25T10:00:05Z",
                }
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "restartCount": rng.randrange(3),
                    "started": True,
                    "image": f"registry.example/{app}:1.0",
                    "imageID": f"registry.example/{app}@sha256:{rng.getrandbits(256):064x}",
                    "containerID": f"containerd://{rng.getrandbits(256):064x}",
                    "lastState": {},
                    "state": {"running": {"startedAt": "2026-11-25T10:00:00Z"}},
                }
            ],
        },
    }


def generate(total: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    items: list[dict] = []
    ns_no = 0
    while len(items) < total:
        ns = f"team-{ns_no:03d}"
        ns_no += 1
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": ns,
                    "labels": {"kubernetes.io/metadata.name": ns, "team": f"t{ns_no % 17}"},
                },
            }
        )
        for d in range(rng.randrange(3, 9)):
            app = f"svc-{d}"
            rs = f"{app}-{rng.getrandbits(32):08x}"
            items.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": app, "namespace": ns, "labels": {"app": app}},
                    "spec": {
                        "replicas": 2,
                        "selector": {"matchLabels": {"app": app}},
                        "template": {
                            "metadata": {"labels": {"app": app}},
                            "spec": {"containers": [{"name": "app"}]},
                        },
                    },
                }
            )
            items.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs,
                        "namespace": ns,
                        "labels": {"app": app},
                        "ownerReferences": [
                            {"kind": "Deployment", "name": app, "controller": True}
                        ],
                    },
                }
            )
            pods = [_pod(ns, app, rs, i, rng) for i in range(rng.randrange(1, 7))]
            items += pods
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": app, "namespace": ns},
                    "spec": {
                        "selector": {"app": app},
                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                    },
                }
            )
            items.append(
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "name": f"{app}-abcde",
                        "namespace": ns,
                        "labels": {"kubernetes.io/service-name": app},
                    },
                    "endpoints": [
                        {"addresses": [p["status"]["podIP"]], "conditions": {"ready": True}}
                        for p in pods
                    ],
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                }
            )
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"{app}-config", "namespace": ns},
                    "data": {"LOG_LEVEL": "info", "POOL_SIZE": str(rng.randrange(5, 30))},
                }
            )
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{rs}.{rng.getrandbits(40):010x}", "namespace": ns},
                    "involvedObject": {"kind": "ReplicaSet", "name": rs, "namespace": ns},
                    "reason": "SuccessfulCreate",
                    "type": "Normal",
                    "message": f"Created pod: {pods[0]['metadata']['name']}",
                }
            )
    return items[:total]


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "benchmarks/out/dump-50k.yaml")
    out.parent.mkdir(parents=True, exist_ok=True)
    items = generate(total)
    # One v1 List as kubectl prints it (items at column 0), written a batch of items at a time
    # by the Rust emitter: PyYAML's Python representer took over half an hour for 350,000.
    with out.open("w", encoding="utf-8") as handle:
        handle.write("apiVersion: v1\nitems:\n")
        for start in range(0, len(items), 5_000):
            text = yaml_rs.dumps(items[start : start + 5_000]).removeprefix("---\n")
            handle.write(text if text.endswith("\n") else text + "\n")
        handle.write('kind: List\nmetadata:\n  resourceVersion: ""\n')
    print(f"wrote {total} objects to {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
