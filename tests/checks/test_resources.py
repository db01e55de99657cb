"""resources: OOM kills, evictions, node pressure, usage against limits, PostgreSQL memory and slow
log lines, and concrete new numbers derived from observed usage."""

from __future__ import annotations

import json

import pytest

from paramedic.checks import model, registry, resources
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve

STS = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "profile-db", "namespace": "data", "uid": "uid-sts"},
    "spec": {"selector": {"matchLabels": {"app": "profile-db"}}},
}


def db_pod(
    name="profile-db-0",
    *,
    restarts=0,
    last=None,
    state=None,
    node="node-b",
    phase="Running",
    limits=None,
    requests=None,
    **status,
):
    res = {
        "limits": limits if limits is not None else {"cpu": "2", "memory": "2Gi"},
        "requests": requests if requests is not None else {"cpu": "1", "memory": "2Gi"},
    }
    cs = {
        "name": "postgres",
        "restartCount": restarts,
        "state": state or {"running": {"startedAt": "2026-11-26T03:14:52Z"}},
    }
    if last:
        cs["lastState"] = {"terminated": last}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "data",
            "labels": {"app": "profile-db"},
            "ownerReferences": [{"kind": "StatefulSet", "name": "profile-db", "uid": "uid-sts"}],
        },
        "spec": {"nodeName": node, "containers": [{"name": "postgres", "resources": res}]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [cs],
            **status,
        },
    }


def node(name="node-b", **pressure):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "conditions": [
                {
                    "type": t,
                    "status": "True" if pressure.get(t) else "False",
                    "lastTransitionTime": "2026-11-26T03:10:00Z",
                    **({"message": pressure[t]} if pressure.get(t) else {}),
                }
                for t in ("MemoryPressure", "DiskPressure", "PIDPressure")
            ]
        },
    }


def metrics(memory, cpu, name="profile-db-0"):
    return {
        "apiVersion": "metrics.k8s.io/v1beta1",
        "kind": "PodMetrics",
        "metadata": {"name": name, "namespace": "data"},
        "timestamp": "2026-11-26T03:20:00Z",
        "window": "15s",
        "containers": [{"name": "postgres", "usage": {"cpu": cpu, "memory": memory}}],
    }


SVC = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "profile-db", "namespace": "data"},
    "spec": {"selector": {"app": "profile-db"}, "ports": [{"name": "postgres", "port": 5432}]},
}
CLIENT = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}},
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "user-service-1",
            "namespace": "app",
            "labels": {"app": "user-service"},
        },
    },
]
OOM = {
    "reason": "OOMKilled",
    "exitCode": 137,
    "startedAt": "2026-11-26T03:02:10Z",
    "finishedAt": "2026-11-26T03:14:50Z",
}
PG_OOM_LOG = (
    "2026-11-26 03:14:49.902 UTC [1] LOG:  server process (PID 2211) was terminated by signal 9: "
    "Killed",
    "2026-11-26 03:14:49.903 UTC [1] LOG:  terminating any other active server processes",
    "2026-11-26 03:14:50.001 UTC [2301] FATAL:  the database system is in recovery mode",
)
SLOW_LOG = (
    "2026-11-26 03:12:01.100 UTC [2290] LOG:  duration: 8123.532 ms  statement: SELECT * FROM "
    "profiles",
    "2026-11-26 03:12:02.100 UTC [2291] LOG:  duration: 12.1 ms  statement: SELECT 1",
)


def run(objs, logs=None, metric_items=(), target="profile-db.data"):
    ev = evidence_model.Evidence.of(
        [*CLIENT, SVC, STS, *objs], logs=logs or {}, metrics=metric_items
    )
    scope = resolve.resolve(
        ev,
        evidence_model.Incident(source="app=user-service", target=target, namespace="app"),
        default_port=5432,
    )
    return resources.run(model.Context(evidence=ev, scope=scope))


def dump(finding):
    return json.dumps(finding.as_dict())


@pytest.mark.parametrize(
    ("objs", "logs", "metric_items", "verdict", "phrases"),
    [
        (
            [db_pod(), node()],
            {},
            [metrics("1100Mi", "300m")],
            "ruled-out",
            ["no OOM kill", "memory 1.1Gi of 2Gi limit (54%)", "cpu 300m of 2 limit (15%)"],
        ),
        ([db_pod(), node()], {}, [], "ruled-out", ["no metrics to compare with limits"]),
        (
            [db_pod(restarts=6, last=OOM), node()],
            {("data", "profile-db-0", "postgres"): PG_OOM_LOG},
            [metrics("1990Mi", "900m")],
            "cause",
            [
                "ran out of memory",
                "OOMKilled (exit 137) at 2026-11-26T03:14:50Z; 6 restart(s)",
                "terminated by signal 9: Killed",
                "the database system is in recovery mode",
                "memory 1.9Gi of 2Gi limit (97%)",
                "kubectl set resources statefulset/profile-db -n data -c postgres "
                "--limits=memory=3Gi --requests=memory=3Gi",
                "--limits=memory=2Gi --requests=memory=2Gi",
            ],
        ),
        (
            [db_pod(restarts=2, last=OOM), node()],
            {},
            [],
            "cause",
            ["--limits=memory=3Gi", "kubectl top pod -n data --containers"],
        ),
        (
            [db_pod(), node()],
            {
                ("data", "profile-db-0", "postgres"): (
                    "2026-11-26 03:10:00 UTC [88] ERROR:  out of memory",
                    "2026-11-26 03:10:00 UTC [88] DETAIL:  Failed on request of size 8388608.",
                )
            },
            [],
            "cause",
            ["ERROR: out of memory"],
        ),
        (
            [
                db_pod(
                    phase="Failed",
                    reason="Evicted",
                    message="The node was low on resource: memory. Threshold quantity: 100Mi, "
                    "available: 82Mi. "
                    "Container postgres was using 1843Mi, request is 512Mi.",
                ),
                db_pod("profile-db-1", node="node-a", requests={"memory": "512Mi"}),
                node(),
                node("node-a"),
            ],
            {},
            [metrics("1843Mi", "400m", "profile-db-1")],
            "cause",
            [
                "1 database pod(s) evicted",
                "The node was low on resource: memory",
                "--requests=memory=2560Mi",
            ],
        ),
        (
            [db_pod(), node(MemoryPressure="kubelet has insufficient memory available")],
            {},
            [],
            "cause",
            [
                "node is under pressure (MemoryPressure)",
                "node node-b: MemoryPressure=True since 2026-11-26T03:10:00Z",
            ],
        ),
        (
            [db_pod(), node()],
            {("data", "profile-db-0", "postgres"): SLOW_LOG},
            [metrics("900Mi", "1950m")],
            "cause",
            ["CPU limit", "throttling is likely", "duration: 8123.532 ms", "--limits=cpu=3"],
        ),
        (
            [db_pod(restarts=3, last={"reason": "Error", "exitCode": 137}), node()],
            {},
            [metrics("900Mi", "200m")],
            "warning",
            ["SIGKILL(s) (exit 137) without reason OOMKilled", "was Error (exit 137)"],
        ),
        (
            [db_pod(), node()],
            {},
            [metrics("1900Mi", "200m")],
            "warning",
            ["memory at >= 90% of its limit (profile-db-0)", "--limits=memory=3Gi"],
        ),
        (
            [db_pod(), node()],
            {("data", "profile-db-0", "postgres"): SLOW_LOG},
            [metrics("900Mi", "300m")],
            "warning",
            ["1 slow statement(s) >= 1000 ms"],
        ),
    ],
    ids=[
        "healthy",
        "healthy-no-metrics",
        "oomkilled",
        "oomkilled-no-metrics",
        "pg-out-of-memory",
        "evicted",
        "node-pressure",
        "cpu-throttled",
        "sigkill-not-oom",
        "memory-near-limit",
        "slow-queries-only",
    ],
)
def test_resources_verdicts(objs, logs, metric_items, verdict, phrases):
    finding = run(objs, logs, metric_items)
    assert finding.verdict == verdict
    out = dump(finding)
    for phrase in phrases:
        assert phrase in out, phrase
    if verdict == "cause":
        assert finding.evidence and finding.fix and finding.why and finding.verify
    if verdict == "ruled-out" and not metric_items:
        assert "kubectl top pod -n data --containers" in finding.missing


def test_fix_action_is_data_for_remedies():
    finding = run([db_pod(restarts=6, last=OOM), node()], {}, [metrics("1990Mi", "900m")])
    action = finding.fix.steps[0].action
    assert action == {
        "op": "set-resources",
        "target": "StatefulSet data/profile-db",
        "container": "postgres",
        "limits": {"memory": "3Gi"},
        "requests": {"memory": "3Gi"},
    }
    assert (
        "      - name: postgres\n        resources:\n          limits:\n            memory: 3Gi\n"
        in (finding.fix.steps[1].content)
    )


def test_usage_far_above_the_limit_sets_the_new_limit_from_usage():
    finding = run(
        [
            db_pod(restarts=1, last=OOM, limits={"memory": "1Gi"}, requests={"memory": "512Mi"}),
            node(),
        ],
        {},
        [metrics("2Gi", "100m")],
    )
    assert "--limits=memory=2816Mi --requests=memory=2816Mi" in finding.fix.steps[0].content


@pytest.mark.parametrize(
    ("target", "phrase"),
    [("db.example.com:5432", "outside the cluster"), ("data/empty", "selects no pod")],
)
def test_no_database_pods_is_inconclusive(target, phrase):
    empty = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "empty", "namespace": "data"},
        "spec": {"selector": {"app": "nothing"}, "ports": [{"port": 5432}]},
    }
    finding = run([empty], target=target)
    assert finding.verdict == "inconclusive" and phrase in finding.summary and finding.missing


def test_registered_under_its_stable_id():
    assert registry.get("resources").function is resources.run
