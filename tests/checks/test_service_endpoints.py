"""service-endpoints: selector mismatches (closest labels), port mismatches, unready pods,
external targets."""

from __future__ import annotations

import copy

import pytest

from paramedic.checks import model, registry, service_endpoints
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve


def pod(
    name, labels, *, ready=True, ports=(("postgres", 5432),), ns="data", ip="10.244.2.31", **status
):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"uid-{name}",
            "labels": labels,
            "ownerReferences": [{"kind": "StatefulSet", "name": "profile-db", "uid": "uid-sts"}],
        },
        "spec": {
            "containers": [
                {
                    "name": "postgres",
                    "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports],
                }
            ]
        },
        "status": {
            "phase": status.pop("phase", "Running"),
            "podIP": ip,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": None if ready else "ContainersNotReady",
                }
            ],
            **status,
        },
    }


def service(selector=None, target_port="postgres", **spec):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "profile-db", "namespace": "data"},
        "spec": {
            "selector": {"app": "profile-db"} if selector is None else selector,
            "ports": [
                {"name": "postgres", "port": 5432, "protocol": "TCP", "targetPort": target_port}
            ],
            **spec,
        },
    }


def endpoint_slice(*ready_ips):
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "profile-db-7q2xk",
            "namespace": "data",
            "labels": {"kubernetes.io/service-name": "profile-db"},
        },
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ready_ips],
    }


CLIENT = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("app", "data")
] + [
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "user-service-1",
            "namespace": "app",
            "labels": {"app": "user-service"},
        },
    }
]
STS = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "profile-db", "namespace": "data", "uid": "uid-sts"},
    "spec": {"selector": {"matchLabels": {"app": "profile-db"}}},
}
DB = pod(
    "profile-db-0", {"app": "profile-db", "statefulset.kubernetes.io/pod-name": "profile-db-0"}
)


def run(objs, target="profile-db.data"):
    ev = evidence_model.Evidence.of([*CLIENT, *objs])
    scope = resolve.resolve(
        ev,
        evidence_model.Incident(source="app=user-service", target=target, namespace="app"),
        default_port=5432,
    )
    return service_endpoints.run(model.Context(evidence=ev, scope=scope))


def text(finding):
    return "\n".join(
        [
            finding.summary,
            *(str(c) for c in finding.evidence),
            *(s.content for s in (finding.fix.steps if finding.fix else ())),
        ]
    )


@pytest.mark.parametrize(
    ("objs", "verdict", "phrases"),
    [
        (
            [STS, DB, service(), endpoint_slice("10.244.2.31")],
            "ruled-out",
            [
                "selects 1 ready pod(s)",
                "targetPort postgres -> containerPort 5432",
                "1 ready (10.244.2.31)",
            ],
        ),
        ([STS, DB, service()], "ruled-out", ["selects 1 ready pod(s)"]),
        (
            [STS, DB, service({"app": "profile-db-primary"}), endpoint_slice()],
            "cause",
            [
                "selects no pod",
                "app=profile-db on the pods, app=profile-db-primary in the selector",
                "closest pods: profile-db-0",
                'kubectl patch service profile-db -n data --type json -p \'[{"op": "replace", '
                '"path": "/spec/selector", "value": {"app": "profile-db"}}]\'',
            ],
        ),
        (
            [STS, DB, service({"app": "profile-db", "tier": "db"})],
            "cause",
            ["pods have no label tier (selector wants tier=db)", '"value": {"app": "profile-db"}'],
        ),
        ([STS, service()], "cause", ["namespace data has no running pod at all"]),
        (
            [STS, DB, service(target_port="pg")],
            "cause",
            [
                "targetPort 'pg' names no port of pod profile-db-0 (its ports: postgres:5432)",
                '"path": "/spec/ports/0/targetPort", "value": "postgres"',
            ],
        ),
        (
            [STS, DB, service(target_port=5433)],
            "cause",
            ["targetPort 5433 is not a port of pod profile-db-0", '"value": "postgres"'],
        ),
        (
            [STS, pod("profile-db-0", {"app": "profile-db"}, ports=()), service(target_port=5433)],
            "ruled-out",
            ["selects 1 ready pod(s)"],
        ),
        (
            [
                STS,
                pod(
                    "profile-db-0",
                    {"app": "profile-db"},
                    ready=False,
                    containerStatuses=[
                        {
                            "name": "postgres",
                            "restartCount": 7,
                            "state": {
                                "waiting": {
                                    "reason": "CrashLoopBackOff",
                                    "message": "back-off 5m0s",
                                }
                            },
                            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                        }
                    ],
                ),
                service(),
                endpoint_slice(),
            ],
            "cause",
            [
                "no ready endpoint",
                "container postgres waiting: CrashLoopBackOff (back-off 5m0s)",
                "last terminated: OOMKilled (exit 137), 7 restart(s)",
                "kubectl describe pod profile-db-0 -n data",
            ],
        ),
        (
            [
                STS,
                pod("profile-db-0", {"app": "profile-db"}, ready=False),
                service(),
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": "profile-db-0.1", "namespace": "data"},
                    "involvedObject": {"kind": "Pod", "name": "profile-db-0", "namespace": "data"},
                    "reason": "Unhealthy",
                    "message": "Readiness probe failed: command timed out",
                    "count": 31,
                },
            ],
            "cause",
            ["Readiness probe failed: command timed out (x31) [Event data/profile-db-0.1]"],
        ),
        (
            [
                STS,
                pod(
                    "profile-db-0",
                    {"app": "profile-db"},
                    phase="Pending",
                    ready=False,
                    conditions=[
                        {
                            "type": "PodScheduled",
                            "status": "False",
                            "reason": "Unschedulable",
                            "message": "0/3 nodes are available: 3 Insufficient memory.",
                        }
                    ],
                ),
                service(),
            ],
            "cause",
            ["Pending, not scheduled: 0/3 nodes are available: 3 Insufficient memory."],
        ),
        (
            [STS, DB, service(), endpoint_slice()],
            "inconclusive",
            ["are ready but its endpoints list none"],
        ),
    ],
    ids=[
        "healthy",
        "healthy-no-endpoint-objects",
        "selector-typo",
        "selector-extra-key",
        "no-pods",
        "named-targetport-missing",
        "numeric-targetport-wrong",
        "no-declared-ports",
        "crashloop",
        "readiness-probe-failing",
        "unschedulable",
        "stale-endpoints",
    ],
)
def test_service_endpoints_verdicts(objs, verdict, phrases):
    finding = run(objs)
    assert finding.verdict == verdict
    for phrase in phrases:
        assert phrase in text(finding)
    if verdict == "cause":
        assert finding.evidence and finding.fix and finding.why
        assert finding.verify.startswith(
            "kubectl get endpointslices -n data -l kubernetes.io/service-name=profile-db"
        )


def test_closest_labels_prefer_pods_that_expose_the_service_port():
    sidecar = pod("metrics-exporter-0", {"app": "profile-db-exporter"}, ports=(("metrics", 9187),))
    finding = run([STS, sidecar, DB, service({"app": "profile-db-primary"})])
    assert "closest pods: profile-db-0" in text(finding)
    assert finding.fix.steps[0].action["patch"] == [
        {"op": "replace", "path": "/spec/selector", "value": {"app": "profile-db"}}
    ]
    assert finding.fix.steps[1].content == "spec:\n  selector:\n    app: profile-db\n"
    assert "profile-db-primary" in finding.fix.rollback


def test_pods_matching_in_the_clients_namespace_are_pointed_out():
    stray = copy.deepcopy(DB)
    stray["metadata"]["namespace"] = "app"
    stray["metadata"]["labels"] = {"app": "profile-db-primary"}
    finding = run([STS, DB, stray, service({"app": "profile-db-primary"})])
    assert "exist in another namespace: app/profile-db-0" in text(finding)


def test_pods_matching_outside_the_incidents_namespaces_are_not_looked_for():
    # live gathering lists pods of the client's and the database's namespaces only, so a full
    # dump must not say more than a live run would
    stray = copy.deepcopy(DB)
    stray["metadata"]["namespace"] = "db"
    stray["metadata"]["labels"] = {"app": "profile-db-primary"}
    finding = run([STS, DB, stray, service({"app": "profile-db-primary"})])
    assert "another namespace" not in text(finding)


def test_terminated_pods_do_not_count_as_selected():
    evicted = pod(
        "profile-db-0", {"app": "profile-db"}, ready=False, phase="Failed", reason="Evicted"
    )
    finding = run([STS, evicted, service()])
    assert finding.verdict == "cause"
    assert "no running pod" in finding.summary


@pytest.mark.parametrize(
    ("objects", "confidence"),
    [
        ([STS, DB, service({"app": "profile-db-primary"})], model.Confidence.HIGH),
        ([STS, service()], model.Confidence.MEDIUM),
    ],
)
def test_a_selector_cause_is_as_sure_as_its_analysis(objects, confidence):
    assert run(objects).confidence is confidence


@pytest.mark.parametrize(
    ("objs", "target", "verdict", "phrase"),
    [
        ([], "db.example.com:5432", "ruled-out", "outside the cluster"),
        (
            [service(None, type="ExternalName", externalName="db.corp.example.com") | {}],
            "profile-db.data",
            "ruled-out",
            "ExternalName alias for db.corp.example.com",
        ),
        ([service({})], "profile-db.data", "inconclusive", "has no selector"),
        (
            [service({}), endpoint_slice("203.0.113.10")],
            "profile-db.data",
            "ruled-out",
            "lists 203.0.113.10",
        ),
        ([service({}), endpoint_slice()], "profile-db.data", "cause", "nothing to connect to"),
    ],
    ids=[
        "external-host",
        "externalname",
        "selectorless-no-endpoints-evidence",
        "selectorless-with-address",
        "selectorless-empty",
    ],
)
def test_external_targets_are_left_to_the_firewall_check(objs, target, verdict, phrase):
    if objs and objs[0]["spec"].get("type") == "ExternalName":
        objs[0]["spec"]["selector"] = None
    finding = run(objs, target=target)
    assert finding.verdict == verdict
    assert phrase in finding.summary
    if verdict == "inconclusive":
        assert "kubectl get endpointslices -n data" in finding.missing


def test_registered_under_its_stable_id():
    assert registry.get("service-endpoints").function is service_endpoints.run
