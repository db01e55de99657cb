"""Clusters with objects beyond an incident's two namespaces, built from shipped demos: a client
of the database with its autoscaler in a third namespace (and an Event there about a pod named
like the client's), calico-node in calico-system with its VXLAN mode on the cluster-scoped
IPPool, a Service of the database's name in a third namespace. tests/live/test_other_namespaces.py
serves them through the fake API server (live findings must equal the full dump's), and
tests/checks/test_needs_cover_reads.py records every check's reads on them as on every demo."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects

Obj = dict[str, Any]


def _namespace(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
    }


def _move(objs: list[Obj], kind: str, name: str, namespace: str) -> Obj:
    moved = next(o for o in objs if o["kind"] == kind and objects.name(o) == name)
    moved["metadata"]["namespace"] = namespace
    return moved


def _configured_client(name: str, namespace: str) -> list[Obj]:
    """A Deployment whose database host and pool size come from a ConfigMap (envFrom)."""
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-db", "namespace": namespace},
        "data": {"DATABASE_HOST": "profile-db.data.svc.cluster.local", "DB_POOL_SIZE": "5"},
    }
    container = {"name": name, "image": f"ghcr.io/example/{name}:1.0", "envFrom": []}
    container["envFrom"] = [{"configMapRef": {"name": f"{name}-db"}}]
    workload = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }
    return [config, workload]


def client_elsewhere(objs: list[Obj]) -> list[Obj]:
    """report-worker, a client of profile-db, runs in `reporting` with an autoscaler that may
    take it to 6 replicas; ledger, in the client's namespace, and archiver, in `reporting`, keep
    their database settings in a ConfigMap (live gathering lists the two namespaces' ConfigMaps
    only, so archiver counts in neither diagnosis); an Event in `reporting` names a pod like the
    client's own."""
    _move(objs, "Deployment", "report-worker", "reporting")
    objs += [*_configured_client("ledger", "app"), *_configured_client("archiver", "reporting")]
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "report-worker", "namespace": "reporting"},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "report-worker",
            },
            "minReplicas": 3,
            "maxReplicas": 6,
        },
    }
    source_pod = next(objects.name(o) for o in objs if o["kind"] == "Pod")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{source_pod}.1", "namespace": "reporting"},
        "involvedObject": {"kind": "Pod", "namespace": "reporting", "name": source_pod},
        "reason": "Failed",
        "type": "Warning",
        "message": 'Error: secret "profile-db-credentials" not found',
        "count": 4,
    }
    return [*objs, _namespace("reporting"), hpa, event]


def calico_by_operator(objs: list[Obj]) -> list[Obj]:
    """calico-node runs in calico-system (tigera-operator's install) and the VXLAN mode is set
    on the cluster-scoped IPPool, not in the DaemonSet's env."""
    node = _move(objs, "DaemonSet", "calico-node", "calico-system")
    container = node["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [e for e in container["env"] if "IPV4POOL_" not in e["name"]]
    pool = {
        "apiVersion": "crd.projectcalico.org/v1",
        "kind": "IPPool",
        "metadata": {"name": "default-ipv4-ippool"},
        "spec": {"cidr": "10.244.0.0/16", "vxlanMode": "Always", "ipipMode": "Never"},
    }
    return [*objs, _namespace("calico-system"), pool]


def service_name_elsewhere(objs: list[Obj]) -> list[Obj]:
    """A Service named like the database's also exists in a third namespace."""
    service = copy.deepcopy(
        next(o for o in objs if o["kind"] == "Service" and objects.name(o) == "profile-db")
    )
    service["metadata"] = {"name": "profile-db", "namespace": "reporting"}
    service["spec"].pop("clusterIP", None)
    service["spec"].pop("clusterIPs", None)
    return [*objs, _namespace("reporting"), service]


SCENARIOS: dict[str, tuple[str, Callable[[list[Obj]], list[Obj]], str, str]] = {
    # name: (demo, edit, check, what its live finding must show from beyond the two namespaces)
    "client-in-another-namespace": (
        "too-many-connections",
        client_elsewhere,
        "connection-pool",
        "HPA report-worker maxReplicas 6",
    ),
    "calico-installed-by-its-operator": (
        "node-to-node-vxlan",
        calico_by_operator,
        "firewall",
        "4789",
    ),
    "service-of-that-name-elsewhere": (
        "wrong-db-host",
        service_name_elsewhere,
        "dns",
        "reporting",
    ),
}


def evidence(scenario: str) -> evidence_model.Evidence:
    """The full dump of `scenario`: its demo's objects edited, with the demo's logs and metrics."""
    name, edit, _, _ = SCENARIOS[scenario]
    demo = demos.load(name)
    objs = edit(copy.deepcopy(list(demo.objects)))
    return evidence_model.Evidence.of(
        objs, logs=demo.logs, metrics=demo.metrics, incident=demo.incident
    )
