"""Pod facts and ownership: workload -> ReplicaSet -> pods through ownerReferences."""

from __future__ import annotations

import pytest

from paramedic.kube import pods


def obj(kind, name, ns="app", uid=None, labels=None, owners=(), **fields):
    meta = {"name": name, "namespace": ns, "uid": uid or f"uid-{name}", "labels": labels or {}}
    if owners:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": o["kind"],
                "name": o["metadata"]["name"],
                "uid": o["metadata"]["uid"],
                "controller": True,
            }
            for o in owners
        ]
    return {"apiVersion": "v1", "kind": kind, "metadata": meta, **fields}


DEPLOY = obj(
    "Deployment",
    "user-service",
    spec={
        "selector": {"matchLabels": {"app": "user-service"}},
        "template": {
            "metadata": {"labels": {"app": "user-service"}},
            "spec": {"containers": [{"name": "app"}]},
        },
    },
)
RS_NEW = obj("ReplicaSet", "user-service-7d4b9c", owners=[DEPLOY])
RS_OLD = obj("ReplicaSet", "user-service-55f8d", owners=[DEPLOY])
RS_OTHER = obj("ReplicaSet", "billing-6c9f", owners=[obj("Deployment", "billing")])
POD_A = obj("Pod", "user-service-7d4b9c-abcde", labels={"app": "user-service"}, owners=[RS_NEW])
POD_B = obj("Pod", "user-service-55f8d-xyz12", labels={"app": "user-service"}, owners=[RS_OLD])
POD_BILLING = obj("Pod", "billing-6c9f-q1w2e", labels={"app": "user-service"}, owners=[RS_OTHER])
STS = obj(
    "StatefulSet",
    "profile-db",
    ns="data",
    spec={"selector": {"matchLabels": {"app": "profile-db"}}},
)
DB_0 = obj("Pod", "profile-db-0", ns="data", labels={"app": "profile-db"}, owners=[STS])


def test_deployment_pods_found_through_every_replicaset():
    found = pods.pods_of_workload(DEPLOY, [POD_A, POD_B, POD_BILLING], [RS_NEW, RS_OLD, RS_OTHER])
    assert [p["metadata"]["name"] for p in found] == [
        POD_A["metadata"]["name"],
        POD_B["metadata"]["name"],
    ]


def test_ownership_wins_over_a_selector_that_also_matches_other_pods():
    found = pods.pods_of_workload(DEPLOY, [POD_A, POD_BILLING], [RS_NEW, RS_OTHER])
    assert [p["metadata"]["name"] for p in found] == [POD_A["metadata"]["name"]]


def test_statefulset_owns_its_pods_directly():
    assert pods.pods_of_workload(STS, [DB_0, POD_A]) == [DB_0]


def test_falls_back_to_the_selector_when_the_evidence_has_no_owner_links():
    bare = obj("Pod", "user-service-x", labels={"app": "user-service"})
    other_ns = obj("Pod", "user-service-y", ns="other", labels={"app": "user-service"})
    assert pods.pods_of_workload(DEPLOY, [bare, other_ns]) == [bare]


def test_owner_link_by_kind_and_name_when_uids_are_missing():
    pod = obj("Pod", "profile-db-1", ns="data")
    pod["metadata"]["ownerReferences"] = [{"kind": "StatefulSet", "name": "profile-db"}]
    assert pods.owned_by(pod, STS)


def test_owner_with_a_different_uid_is_not_the_owner():
    recreated = obj("StatefulSet", "profile-db", ns="data", uid="uid-new")
    assert not pods.owned_by(DB_0, recreated)


@pytest.mark.parametrize(
    ("pod", "owner"),
    [
        (POD_A, DEPLOY),
        (POD_B, DEPLOY),
        (DB_0, STS),
        (obj("Pod", "orphan"), None),
    ],
)
def test_owner_workload_walks_pod_to_replicaset_to_deployment(pod, owner):
    assert pods.owner_workload(pod, [DEPLOY, STS], [RS_NEW, RS_OLD]) == owner


def test_owner_workload_is_the_replicaset_when_its_deployment_is_not_in_evidence():
    assert pods.owner_workload(POD_A, [], [RS_NEW]) == RS_NEW


@pytest.mark.parametrize(
    ("status", "meta", "ready"),
    [
        ({"conditions": [{"type": "Ready", "status": "True"}]}, {}, True),
        ({"conditions": [{"type": "Ready", "status": "False"}]}, {}, False),
        ({"conditions": [{"type": "PodScheduled", "status": "True"}]}, {}, False),
        ({}, {}, False),
        (
            {"conditions": [{"type": "Ready", "status": "True"}]},
            {"deletionTimestamp": "2026-11-26T04:00:00Z"},
            False,
        ),
    ],
)
def test_ready_means_ready_condition_true_and_not_terminating(status, meta, ready):
    pod = obj("Pod", "p", status=status)
    pod["metadata"].update(meta)
    assert pods.is_ready(pod) is ready


def test_waiting_reasons_list_every_stuck_container():
    pod = obj(
        "Pod",
        "p",
        status={
            "initContainerStatuses": [{"name": "init", "state": {"terminated": {"exitCode": 0}}}],
            "containerStatuses": [
                {
                    "name": "app",
                    "state": {
                        "waiting": {
                            "reason": "CreateContainerConfigError",
                            "message": 'secret "x" not found',
                        }
                    },
                },
                {"name": "sidecar", "state": {"running": {"startedAt": "2026-11-26T04:00:00Z"}}},
            ],
        },
    )
    assert pods.waiting_reasons(pod) == [
        ("app", "CreateContainerConfigError", 'secret "x" not found')
    ]


@pytest.mark.parametrize(
    ("obj_", "names"),
    [
        ({"kind": "Pod", "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}, ["a", "b"]),
        (
            {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}},
            ["c"],
        ),
        (
            {
                "kind": "CronJob",
                "spec": {
                    "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "j"}]}}}}
                },
            },
            ["j"],
        ),
        ({"kind": "Pod", "spec": {"containers": None}}, []),
    ],
)
def test_containers_of_pods_and_templates(obj_, names):
    assert [c["name"] for c in pods.containers(obj_)] == names


def test_ip_and_phase():
    pod = obj("Pod", "p", status={"podIP": "10.244.1.7", "phase": "Running"})
    assert (pods.ip(pod), pods.phase(pod)) == ("10.244.1.7", "Running")
    assert (pods.ip(obj("Pod", "q")), pods.phase(obj("Pod", "q"))) == (None, "Unknown")
