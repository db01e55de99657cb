"""A cluster holds more than the incident's two namespaces: a client of the database with its
autoscaler in a third one, the CNI's agent in calico-system with its pools cluster-wide, a Service
of the database's name elsewhere, Events about a same-named pod in another namespace. Served
through the fake API server, the live diagnosis must give every finding's verdict, confidence
and fix exactly as the full dump does (a check that read what gathering never fetched would see
less live), and each scenario shows the object beyond the two namespaces was used."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects

from . import fakeapi, livekit

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


def client_elsewhere(objs: list[Obj]) -> list[Obj]:
    """report-worker, a client of profile-db, runs in `reporting` with an autoscaler that may
    take it to 6 replicas; an Event there names a pod like the client's own."""
    _move(objs, "Deployment", "report-worker", "reporting")
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
        "report-worker",
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


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_live_findings_equal_a_full_dumps_when_objects_sit_in_other_namespaces(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, edit, check, shown = SCENARIOS[scenario]
    demo = demos.load(name)
    assert demo.incident is not None
    objs = edit(copy.deepcopy(list(demo.objects)))
    with fakeapi.FakeApiServer(objs, logs=dict(demo.logs), metrics=demo.metrics) as server:
        _, live = livekit.served_diagnosis(capsys, server, demo.incident, tmp_path)
    dump = livekit.bundle_diagnosis(
        evidence_model.Evidence.of(
            objs, logs=demo.logs, metrics=demo.metrics, incident=demo.incident
        )
    )
    for part in ("findings", "next"):
        whole = livekit.whole
        assert [whole(f) for f in live[part]] == [whole(f) for f in dump[part]], part
    finding = next(f for f in live["findings"] if f["check"] == check)
    assert shown in str(finding), finding
