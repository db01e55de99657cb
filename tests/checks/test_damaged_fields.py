"""Each field that once made a check raise (found by test_checks_fuzz.py), pinned: with that field
damaged in a demo, the check still returns a finding, and the runbook records no error."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from paramedic.checks import builtin, model, registry
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

C0 = ("spec", "template", "spec", "containers", 0)
"""The first container of a workload's pod template."""
SELECTOR_VALUES_NOT_A_LIST = {"matchExpressions": [{"key": "app", "operator": "In", "values": 5}]}

# (demo, check, [(kind, "ns/name", path, value)]): objects changed before the check runs
OBJECT_CASES = [
    (
        "too-many-connections",
        "connection-pool",
        [("Deployment", "app/user-service", ("spec", "replicas"), "x")],
    ),
    (
        "too-many-connections",
        "connection-pool",
        [("HorizontalPodAutoscaler", "app/user-service", ("spec", "maxReplicas"), ["x"])],
    ),
    (
        "too-many-connections",
        "connection-pool",
        [("StatefulSet", "data/profile-db", (*C0, "name"), "db")],
    ),
    (
        "too-many-connections",
        "connection-pool",
        [
            (
                "Pod",
                "data/profile-db-0",
                ("spec", "containers", 0, "command"),
                ["postgres", "-c", "max_connections=200"],
            ),
            ("Pod", "data/profile-db-0", ("spec", "containers", 0, "args"), []),
        ],
    ),
    (
        "seed",
        "readiness-probe",
        [("Deployment", "app/user-service", (*C0, "readinessProbe", "timeoutSeconds"), "x")],
    ),
    (
        "seed",
        "readiness-probe",
        [("Deployment", "app/user-service", (*C0, "readinessProbe", "failureThreshold"), ["x"])],
    ),
    (
        "seed",
        "readiness-probe",
        [("StatefulSet", "data/profile-db", (*C0, "livenessProbe"), {"timeoutSeconds": "²"})],
    ),
    (
        "coredns-down",
        "dns",
        [
            (
                "Pod",
                "kube-system/coredns-5d78c9869d-4tq8r",
                ("status", "containerStatuses", 0, "restartCount"),
                "x",
            )
        ],
    ),
    (
        "seed",
        "network-policy",
        [
            ("Service", "data/profile-db", ("spec", "ports", 0, "protocol"), "x"),
            ("Service", "data/profile-db", ("spec", "ports", 0, "targetPort"), 5432),
        ],
    ),
    (
        "seed",
        "network-policy",
        [("Service", "data/profile-db", ("spec", "ports", 0, "targetPort"), 0)],
    ),
    (
        "seed",
        "network-policy",
        [("Service", "kube-system/kube-dns", ("spec", "ports", 0, "targetPort"), "²")],
    ),
    ("seed", "network-policy", [("Pod", "data/profile-db-0", ("status", "podIP"), "x")]),
    (
        "seed",
        "network-policy",
        [
            (
                "Pod",
                "kube-system/coredns-5d78c9869d-p9z2m",
                ("spec", "containers", 0, "ports", 2, "name"),
                [1],
            )
        ],
    ),
    (
        "seed",
        "network-policy",
        [("StatefulSet", "data/profile-db", ("spec", "selector", "matchLabels"), 5)],
    ),
    (
        "seed",
        "network-policy",
        [
            (
                "NetworkPolicy",
                "data/profile-db-ingress",
                ("spec", "podSelector"),
                SELECTOR_VALUES_NOT_A_LIST,
            )
        ],
    ),
    (
        "coredns-down",
        "network-policy",
        [("NetworkPolicy", "data/profile-db-ingress", ("spec",), None)],
    ),
    (
        "seed",
        "service-endpoints",
        [("Service", "data/profile-db", ("spec", "ports", 0, "targetPort"), "²")],
    ),
    (  # the sidecar-injection fix copied a client pod whose spec is null
        "istio-strict-mtls",
        "network-policy",
        [("Pod", "app/user-service-7d9f8b6c5d-x2x9k", ("spec",), None)],
    ),
]

# (demo, check, probe index, path in its data, value)
PROBE_CASES = [
    ("too-many-connections", "connection-pool", 0, ("by_state", "idle"), "x"),
    ("too-many-connections", "connection-pool", 0, ("by_client",), {"10.244.1.23": [1]}),
    ("too-many-connections", "connection-pool", 0, ("idle_in_transaction",), 5),
    ("too-many-connections", "connection-pool", 0, ("idle_in_transaction", 0, "seconds"), "NaN"),
    ("wrong-db-host", "dns", 1, ("addresses",), 5),
]


def _set(root: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        root = root[key]
    root[path[-1]] = copy.deepcopy(value)


def _objects_changed(demo: str, changes: list[tuple[str, str, tuple[Any, ...], Any]]) -> Any:
    ev = demos.load(demo)
    objects = copy.deepcopy(list(ev.objects))
    for kind, ref, path, value in changes:
        ns, _, name = ref.partition("/")
        (obj,) = [
            o
            for o in objects
            if o.get("kind") == kind
            and o["metadata"].get("namespace") == ns
            and o["metadata"].get("name") == name
        ]
        _set(obj, path, value)
    return dataclasses.replace(
        ev, objects=tuple(objects), index=evidence_model.ObjectIndex.build(objects)
    )


def _probe_changed(demo: str, index: int, path: tuple[Any, ...], value: Any) -> Any:
    ev = demos.load(demo)
    probes = list(ev.probes)
    data = copy.deepcopy(dict(probes[index].data))
    _set(data, path, value)
    probes[index] = dataclasses.replace(probes[index], data=data)
    return dataclasses.replace(ev, probes=tuple(probes))


def _assert_check_and_runbook_survive(ev: evidence_model.Evidence, check: str) -> None:
    assert builtin.load() == {}
    runbook = runbook_model.builtin("db-connectivity")
    assert ev.incident is not None
    scope = resolve.resolve(ev, ev.incident, default_port=runbook.default_port)
    spec = registry.get(check)
    assert spec is not None
    finding = spec.function(model.Context(evidence=ev, scope=scope))
    assert isinstance(finding, model.Finding)
    assert engine.run(runbook, ev, ev.incident).errors == ()


@pytest.mark.parametrize(
    ("demo", "check", "changes"),
    OBJECT_CASES,
    ids=[f"{c}-{d}-{ch[0][0]}.{'.'.join(map(str, ch[0][2]))}" for d, c, ch in OBJECT_CASES],
)
def test_a_check_survives_a_damaged_object_field(demo, check, changes):
    _assert_check_and_runbook_survive(_objects_changed(demo, changes), check)


@pytest.mark.parametrize(
    ("demo", "check", "index", "path", "value"),
    PROBE_CASES,
    ids=[f"{c}-{d}-{'.'.join(map(str, p))}" for d, c, _, p, _ in PROBE_CASES],
)
def test_a_check_survives_a_damaged_probe_data_field(demo, check, index, path, value):
    _assert_check_and_runbook_survive(_probe_changed(demo, index, path, value), check)


def test_a_service_port_out_of_range_makes_network_policy_inconclusive():
    ev = _objects_changed(
        "seed", [("Service", "data/profile-db", ("spec", "ports", 0, "targetPort"), 0)]
    )
    assert builtin.load() == {}
    assert ev.incident is not None
    scope = resolve.resolve(ev, ev.incident, default_port=5432)
    spec = registry.get("network-policy")
    assert spec is not None
    finding = spec.function(model.Context(evidence=ev, scope=scope))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert finding.summary == "cannot evaluate policies: port 0 is out of range (1-65535)"
