"""credentials: missing Secret/key, Secret changed after the pods started, rejected passwords,
pg_hba.conf - with key names and digests only, never a value."""

from __future__ import annotations

import copy
import json

import pytest

from paramedic.checks import credentials, model, registry
from paramedic.evidence import model as evidence_model
from paramedic.evidence import probes_file
from paramedic.kube import resolve

PASSWORD_B64 = "czNjcjN0UGFzc3dvcmQ="  # base64 of s3cr3tPassword
ENV = [
    {"name": "DB_HOST", "value": "profile-db.data.svc.cluster.local"},
    {"name": "DB_NAME", "value": "profiles"},
    {"name": "DB_USER", "value": "user_service"},
    {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "profile-db-credentials", "key": "password"}},
    },
]


def template(env=None, mounts=None, volumes=None):
    container = {"name": "app", "env": ENV if env is None else env}
    if mounts:
        container["volumeMounts"] = mounts
    return {"spec": {"containers": [container], "volumes": volumes or []}}


def deployment(**kw):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "user-service", "namespace": "app", "uid": "uid-deploy"},
        "spec": {
            "selector": {"matchLabels": {"app": "user-service"}},
            "template": {"metadata": {"labels": {"app": "user-service"}}, **template(**kw)},
        },
    }


RS = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {
        "name": "user-service-7d9f8b6c5d",
        "namespace": "app",
        "uid": "uid-rs",
        "ownerReferences": [{"kind": "Deployment", "name": "user-service", "uid": "uid-deploy"}],
    },
}


def client_pod(suffix, started="2026-11-24T15:02:14Z", waiting=None, **kw):
    state = {"waiting": waiting} if waiting else {"running": {"startedAt": started}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"user-service-7d9f8b6c5d-{suffix}",
            "namespace": "app",
            "labels": {"app": "user-service"},
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": RS["metadata"]["name"], "uid": "uid-rs"}
            ],
        },
        "spec": template(**kw)["spec"],
        "status": {
            "phase": "Pending" if waiting else "Running",
            "containerStatuses": [{"name": "app", "restartCount": 0, "state": state}],
        },
    }


def secret(
    name="profile-db-credentials", written="2026-10-30T02:00:04Z", keys=("password", "username")
):
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": "app",
            "creationTimestamp": "2025-06-03T11:19:02Z",
            "managedFields": [
                {"manager": "kubectl-create", "time": "2025-06-03T11:19:02Z"},
                {"manager": "external-secrets", "time": written},
            ],
        },
        "data": {k: PASSWORD_B64 for k in keys},
    }


DB = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "data"}},
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "profile-db-0", "namespace": "data", "labels": {"app": "profile-db"}},
        "spec": {
            "containers": [
                {"name": "postgres", "ports": [{"name": "postgres", "containerPort": 5432}]}
            ]
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "profile-db", "namespace": "data"},
        "spec": {
            "selector": {"app": "profile-db"},
            "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-a"},
        "spec": {"podCIDR": "10.244.1.0/24"},
    },
    {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-b"},
        "spec": {"podCIDR": "10.244.2.0/24"},
    },
]
CLIENT_28P01 = (
    "2026-11-26T03:02:40Z ERROR db: connection failed: connection to server at "
    '"profile-db.data.svc.cluster.local"'
    " (10.96.112.40), port 5432 failed: FATAL:  password authentication failed for user "
    '"user_service"',
)
SERVER_28P01 = (
    "2026-11-26 03:02:40.118 UTC [4121] FATAL:  password authentication failed for user "
    '"user_service"',
    '2026-11-26 03:02:40.118 UTC [4121] DETAIL:  Connection matched pg_hba.conf line 100: "host '
    'all all all scram-sha-256"',
)
HBA = (
    '2026-11-26 03:02:40.118 UTC [4121] FATAL:  no pg_hba.conf entry for host "10.244.1.23", '
    'user "user_service", database "profiles", no encryption',
)
OK_LOG = ("2026-11-26T03:00:00Z INFO served GET /profile/42 in 12ms",)


def event(pod, message, count=12):
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{pod}.1", "namespace": "app"},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": "app"},
        "reason": "Failed",
        "type": "Warning",
        "message": message,
        "count": count,
    }


def run(objs, logs=None, probes=()):
    ev = evidence_model.Evidence.of([*DB, *objs], logs=logs or {}, probes=probes)
    scope = resolve.resolve(
        ev,
        evidence_model.Incident(source="user-service", target="profile-db.data", namespace="app"),
        default_port=5432,
    )
    return credentials.run(model.Context(evidence=ev, scope=scope))


def client_logs(lines):
    return {("app", "user-service-7d9f8b6c5d-x2x9k", "app"): tuple(lines)}


def dump(finding):
    return json.dumps(finding.as_dict())


PODS = [client_pod("x2x9k"), client_pod("k8mzp", started="2026-11-24T15:02:43Z")]
ROTATED = secret(written="2026-11-26T03:02:11Z")


@pytest.mark.parametrize(
    ("objs", "logs", "verdict", "confidence", "phrases"),
    [
        (
            [deployment(), RS, *PODS, secret()],
            client_logs(OK_LOG),
            "ruled-out",
            "high",
            [
                "no authentication failure",
                "keys password (hmac:",
                "last written 2026-10-30T02:00:04Z by external-secrets",
            ],
        ),
        ([deployment(), RS, *PODS, secret()], {}, "ruled-out", "medium", ["cannot be ruled out"]),
        (
            [deployment(), RS, *PODS, ROTATED],
            client_logs(CLIENT_28P01),
            "cause",
            "high",
            [
                "changed at 2026-11-26T03:02:11Z, after 2 client pod(s) started",
                "user-service-7d9f8b6c5d-x2x9k at 2026-11-24T15:02:14Z",
                "read as Secret profile-db-credentials key 'password' as env var DB_PASSWORD",
                "kubectl rollout restart deployment/user-service -n app",
                'password authentication failed for user \\"user_service\\"',
            ],
        ),
        (
            [deployment(), RS, *PODS, ROTATED],
            {("data", "profile-db-0", "postgres"): SERVER_28P01},
            "cause",
            "high",
            ["log data/profile-db-0/postgres:1"],
        ),
        (
            [deployment(), RS, *PODS, ROTATED],
            client_logs(OK_LOG),
            "warning",
            "medium",
            [
                "no authentication failure seen yet",
                "kubectl rollout restart deployment/user-service -n app",
            ],
        ),
        (
            [deployment(), RS, *PODS, ROTATED],
            {},
            "inconclusive",
            "medium",
            ["kubectl logs -n app deployment/user-service"],
        ),
        (
            [
                deployment(
                    env=[],
                    mounts=[{"name": "creds", "mountPath": "/etc/db"}],
                    volumes=[{"name": "creds", "secret": {"secretName": "profile-db-credentials"}}],
                ),
                RS,
                *PODS,
                ROTATED,
            ],
            client_logs(OK_LOG),
            "ruled-out",
            "high",
            ["as volume mount /etc/db"],
        ),
        (
            [
                deployment(
                    env=[],
                    mounts=[
                        {"name": "creds", "mountPath": "/etc/db/password", "subPath": "password"}
                    ],
                    volumes=[{"name": "creds", "secret": {"secretName": "profile-db-credentials"}}],
                ),
                RS,
                *PODS,
                ROTATED,
            ],
            client_logs(CLIENT_28P01),
            "cause",
            "high",
            ["(subPath password)"],
        ),
        (
            [deployment(), RS, *PODS, secret()],
            client_logs(CLIENT_28P01),
            "cause",
            "medium",
            [
                "did not change after the pods started",
                "psql -U postgres -d profiles -c '\\\\password user_service'",
                "kubectl exec -it -n data profile-db-0 -c postgres",
            ],
        ),
        (
            [deployment(), RS, *PODS, secret()],
            {("app", "user-service-7d9f8b6c5d-x2x9k", "app"): HBA},
            "cause",
            "high",
            [
                "no pg_hba.conf line",
                "host profiles user_service 10.244.0.0/22 scram-sha-256",
                "pg_reload_conf",
            ],
        ),
    ],
    ids=[
        "healthy",
        "healthy-without-logs",
        "rotated-with-28P01",
        "rotated-server-log",
        "rotated-quiet",
        "rotated-no-logs",
        "volume-mount-updates-live",
        "subpath-never-updates",
        "wrong-password",
        "no-hba-entry",
    ],
)
def test_credentials_verdicts(objs, logs, verdict, confidence, phrases):
    finding = run(objs, logs)
    assert (finding.verdict, finding.confidence) == (verdict, confidence)
    out = dump(finding)
    for phrase in phrases:
        assert phrase in out
    if verdict == "cause":
        assert finding.evidence and finding.fix and finding.why and finding.verify
    if verdict == "inconclusive":
        assert finding.missing


CONFIG_REF = {
    "name": "DB_SSLMODE",
    "valueFrom": {"configMapKeyRef": {"name": "profile-db-setting", "key": "sslmode"}},
}
STUCK = {
    "reason": "CreateContainerConfigError",
    "message": "couldn't find key password in Secret app/profile-db-credentials",
}


@pytest.mark.parametrize(
    ("objs", "phrases", "patch"),
    [
        (
            [
                deployment(),
                RS,
                client_pod("x2x9k", waiting=STUCK),
                secret(keys=("db-password", "username")),
                event(
                    "user-service-7d9f8b6c5d-x2x9k",
                    "Error: couldn't find key password in Secret app/profile-db-credentials",
                    38,
                ),
            ],
            [
                "has no such key (keys: db-password, username)",
                "CreateContainerConfigError",
                "Error: couldn't find key password in Secret app/profile-db-credentials (x38)",
                "add key 'password' to the Secret with the value of 'db-password'",
            ],
            [
                {
                    "op": "replace",
                    "path": "/spec/template/spec/containers/0/env/3/valueFrom/secretKeyRef/key",
                    "value": "db-password",
                }
            ],
        ),
        (
            [
                deployment(),
                RS,
                client_pod(
                    "x2x9k",
                    waiting={
                        "reason": "CreateContainerConfigError",
                        "message": 'secret "profile-db-credentials" not found',
                    },
                ),
                secret(name="profile-db-credential"),
            ],
            [
                "Secret app/profile-db-credentials, which does not exist",
                'secret \\"profile-db-credentials\\" not found',
            ],
            None,  # a Secret of a near name is no evidence: live gathering never lists Secrets
        ),
        (
            [
                deployment(env=[*ENV, CONFIG_REF]),
                RS,
                client_pod(
                    "x2x9k",
                    waiting={
                        "reason": "CreateContainerConfigError",
                        "message": 'configmap "profile-db-setting" not found',
                    },
                ),
                secret(),
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "profile-db-settings", "namespace": "app"},
                    "data": {"sslmode": "require"},
                },
            ],
            ["ConfigMap app/profile-db-setting, which does not exist"],
            [
                {
                    "op": "replace",
                    "path": "/spec/template/spec/containers/0/env/4/valueFrom/configMapKeyRef/name",
                    "value": "profile-db-settings",
                }
            ],
        ),
        (
            [
                deployment(),
                RS,
                client_pod(
                    "x2x9k",
                    waiting={
                        "reason": "CreateContainerConfigError",
                        "message": 'secret "profile-db-credentials" not found',
                    },
                ),
            ],
            ["which does not exist", "from your secret store"],
            None,
        ),
    ],
    ids=[
        "missing-key-close-match",
        "missing-secret-typo",
        "missing-configmap-typo",
        "missing-secret",
    ],
)
def test_missing_secret_or_key_is_the_first_cause(objs, phrases, patch):
    finding = run(objs)
    assert (finding.verdict, finding.confidence, finding.priority) == ("cause", "high", 10)
    out = dump(finding)
    for phrase in phrases:
        assert phrase in out
    if patch:
        assert finding.fix.steps[0].action["patch"] == patch
        assert finding.fix.steps[0].content.startswith(
            "kubectl patch deployment user-service -n app --type json"
        )


@pytest.mark.parametrize(
    ("logs", "verdict", "confidence"),
    [(client_logs(OK_LOG), "ruled-out", "medium"), ({}, "inconclusive", "low")],
)
def test_secret_absent_from_a_snapshot_without_secrets_is_not_called_missing(
    logs, verdict, confidence
):
    finding = run([deployment(), RS, *PODS], logs)
    assert (finding.verdict, finding.confidence) == (verdict, confidence)
    assert "rotation cannot be checked" in finding.summary
    assert "kubectl get secret profile-db-credentials -n app -o custom-columns=" in finding.missing
    assert (
        "-o yaml" not in finding.missing and "-o json" not in finding.missing
    )  # would print values


def test_optional_references_may_be_missing():
    env = [
        *ENV,
        {
            "name": "X",
            "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}},
        },
    ]
    finding = run([deployment(env=env), RS, *PODS, secret()], client_logs(OK_LOG))
    assert finding.verdict == "ruled-out"


@pytest.mark.parametrize(
    ("outcome", "phrase"),
    [
        ("auth-failed", "postgres probe as user 'user_service': auth-failed"),
        ("no-hba-entry", "pg_hba.conf"),
    ],
)
def test_recorded_postgres_probes_count_as_evidence(outcome, phrase):
    message = (
        'password authentication failed for user "user_service"'
        if outcome == "auth-failed"
        else HBA[0].split("FATAL:  ")[1]
    )
    probe = probes_file.ProbeResult(
        kind="postgres",
        target="profile-db.data.svc.cluster.local:5432",
        outcome=outcome,
        elapsed_ms=8.0,
        data={"user": "user_service", "database": "profiles", "server_message": message},
    )
    finding = run([deployment(), RS, *PODS, secret()], probes=[probe])
    assert finding.verdict == "cause"
    assert phrase in dump(finding)


def test_secret_values_never_reach_the_output():
    leaky = (
        copy.deepcopy(CLIENT_28P01[0])
        + " dsn=postgresql://user_service:s3cr3tPassword@profile-db:5432/profiles"
    )
    for objs in ([deployment(), RS, *PODS, ROTATED], [deployment(), RS, *PODS, secret()]):
        out = dump(run(objs, client_logs([leaky, "password=s3cr3tPassword"])))
        assert PASSWORD_B64 not in out and "s3cr3tPassword" not in out
        assert "postgresql://***@profile-db" in out


def test_no_source_workload_is_inconclusive():
    ev = evidence_model.Evidence.of(DB)
    scope = resolve.Scope(
        namespace="app",
        source="Deployment app/ghost",
        source_workload=None,
        source_pods=(),
        target="Service data/profile-db",
        target_namespace="data",
        target_service=None,
        target_pods=(),
        target_host="profile-db.data.svc.cluster.local",
        port=5432,
    )
    finding = credentials.run(model.Context(evidence=ev, scope=scope))
    assert finding.verdict == "inconclusive" and "kubectl get deploy,pods -n app" in finding.missing


def test_registered_under_its_stable_id():
    assert registry.get("credentials").function is credentials.run


def test_a_label_edit_after_the_pods_started_is_not_a_rotation():
    relabelled = secret()
    relabelled["metadata"]["managedFields"] += [
        {
            "manager": "kubectl-label",
            "time": "2026-11-26T03:02:11Z",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}},
        },
        {
            "manager": "external-secrets",
            "time": "2026-10-30T02:00:04Z",
            "fieldsV1": {"f:data": {"f:password": {}}},
        },
    ]
    finding = run([deployment(), RS, *PODS, relabelled], client_logs(OK_LOG))
    assert finding.verdict == "ruled-out"
    assert "last written 2026-10-30T02:00:04Z by external-secrets" in dump(finding)


def test_a_data_write_with_fieldsv1_is_a_rotation():
    rotated = secret()
    rotated["metadata"]["managedFields"].append(
        {
            "manager": "vault-secrets-operator",
            "time": "2026-11-26T03:02:11Z",
            "fieldsV1": {"f:data": {"f:password": {}}},
        }
    )
    finding = run([deployment(), RS, *PODS, rotated], client_logs(CLIENT_28P01))
    assert (finding.verdict, finding.confidence) == ("cause", "high")
    assert "by vault-secrets-operator" in dump(finding)
