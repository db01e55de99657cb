"""Which Secrets/ConfigMaps a container reads, and how; its effective environment."""

from __future__ import annotations

import pytest

from paramedic.kube import env

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "user-service", "namespace": "app"},
    "spec": {
        "template": {
            "spec": {
                "initContainers": [
                    {"name": "migrate", "envFrom": [{"secretRef": {"name": "migrator"}}]}
                ],
                "containers": [
                    {
                        "name": "app",
                        "env": [
                            {"name": "DB_HOST", "value": "profile-db.data.svc.cluster.local"},
                            {
                                "name": "DB_USER",
                                "valueFrom": {
                                    "configMapKeyRef": {"name": "db-config", "key": "user"}
                                },
                            },
                            {
                                "name": "DB_PASSWORD",
                                "valueFrom": {
                                    "secretKeyRef": {
                                        "name": "profile-db-credentials",
                                        "key": "password",
                                    }
                                },
                            },
                            {
                                "name": "API_TOKEN",
                                "valueFrom": {
                                    "secretKeyRef": {
                                        "name": "tokens",
                                        "key": "api",
                                        "optional": True,
                                    }
                                },
                            },
                            {
                                "name": "POD_IP",
                                "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
                            },
                            {
                                "name": "MEM",
                                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}},
                            },
                        ],
                        "envFrom": [
                            {"configMapRef": {"name": "app-settings"}},
                            {"prefix": "PG_", "secretRef": {"name": "pg-extra", "optional": True}},
                        ],
                        "volumeMounts": [
                            {"name": "tls", "mountPath": "/etc/tls", "readOnly": True},
                            {
                                "name": "pgpass",
                                "mountPath": "/home/app/.pgpass",
                                "subPath": ".pgpass",
                            },
                            {"name": "bundle", "mountPath": "/etc/bundle"},
                            {"name": "scratch", "mountPath": "/tmp"},
                        ],
                    },
                    {"name": "sidecar", "env": [{"name": "X", "value": "1"}]},
                ],
                "volumes": [
                    {"name": "tls", "secret": {"secretName": "db-tls"}},
                    {
                        "name": "pgpass",
                        "secret": {
                            "secretName": "profile-db-credentials",
                            "items": [{"key": "pgpass", "path": ".pgpass"}],
                        },
                    },
                    {
                        "name": "bundle",
                        "projected": {
                            "sources": [
                                {
                                    "configMap": {
                                        "name": "ca",
                                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                    }
                                },
                                {"secret": {"name": "client-cert", "optional": True}},
                            ]
                        },
                    },
                    {"name": "scratch", "emptyDir": {}},
                ],
            }
        }
    },
}


def described(refs):
    return [r.describe() for r in refs]


def test_every_secret_and_configmap_reference_of_a_container_and_how_it_is_read():
    assert described(env.references(DEPLOYMENT, "app")) == [
        "ConfigMap db-config key 'user' as env var DB_USER",
        "Secret profile-db-credentials key 'password' as env var DB_PASSWORD",
        "Secret tokens key 'api' as env var API_TOKEN (optional)",
        "ConfigMap app-settings as envFrom",
        "Secret pg-extra as envFrom with prefix 'PG_' (optional)",
        "Secret db-tls as volume mount /etc/tls",
        "Secret profile-db-credentials key 'pgpass' as volume mount /home/app/.pgpass"
        " (subPath .pgpass)",
        "ConfigMap ca key 'ca.crt' as volume mount /etc/bundle",
        "Secret client-cert as volume mount /etc/bundle (optional)",
    ]


def test_init_containers_count_too():
    assert described(env.references(DEPLOYMENT, "migrate")) == ["Secret migrator as envFrom"]


def test_references_carry_json_pointers_for_patches():
    ref = next(r for r in env.references(DEPLOYMENT) if r.env_var == "DB_PASSWORD")
    assert ref.path == "/spec/template/spec/containers/0/env/2/valueFrom/secretKeyRef"
    pod = {"kind": "Pod", "spec": DEPLOYMENT["spec"]["template"]["spec"]}
    assert next(r for r in env.references(pod) if r.env_var == "DB_PASSWORD").path.startswith(
        "/spec/containers/0/"
    )


@pytest.mark.parametrize(
    ("predicate", "live"),
    [
        (lambda r: r.env_var == "DB_PASSWORD", False),
        (lambda r: r.via == env.ENV_FROM and r.name == "pg-extra", False),
        (lambda r: r.sub_path == ".pgpass", False),
        (lambda r: r.name == "db-tls", True),
    ],
)
def test_only_plain_volume_mounts_see_updates_without_a_restart(predicate, live):
    ref = next(r for r in env.references(DEPLOYMENT, "app") if predicate(r))
    assert ref.live_updates is live


@pytest.mark.parametrize(
    ("items", "sub_path", "keys"),
    [
        ([], None, [None]),
        ([], "password", ["password"]),
        ([{"key": "password", "path": "pw"}], "pw", ["password"]),
        ([{"key": "a", "path": "x/a"}, {"key": "b", "path": "y"}], "x", ["a"]),
        ([{"key": "a", "path": "a"}, {"key": "b", "path": "b"}], None, ["a", "b"]),
    ],
)
def test_volume_keys_exposed_by_items_and_subpath(items, sub_path, keys):
    pod = {
        "kind": "Pod",
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "volumeMounts": [
                        {
                            "name": "v",
                            "mountPath": "/m",
                            **({"subPath": sub_path} if sub_path else {}),
                        }
                    ],
                }
            ],
            "volumes": [{"name": "v", "secret": {"secretName": "s", "items": items}}],
        },
    }
    assert [r.key for r in env.references(pod)] == keys


SECRETS = {
    ("ConfigMap", "app-settings"): {"data": {"LOG_LEVEL": "info", "DB_USER": "from-configmap"}},
    ("Secret", "pg-extra"): {"data": {"SSLMODE": "cmVxdWlyZQ=="}, "stringData": {"APPNAME": "x"}},
}


def lookup(kind, name):
    return SECRETS.get((kind, name))


def test_effective_env_expands_envfrom_with_prefix_and_env_wins():
    container = DEPLOYMENT["spec"]["template"]["spec"]["containers"][0]
    result = {v.name: v for v in env.effective_env(container, lookup)}
    assert list(result) == [
        "DB_USER",
        "LOG_LEVEL",
        "PG_APPNAME",
        "PG_SSLMODE",
        "DB_HOST",
        "DB_PASSWORD",
        "API_TOKEN",
        "POD_IP",
        "MEM",
    ]
    assert result["DB_USER"].source == "configMapKeyRef"
    assert result["PG_SSLMODE"].source == "secretRef"
    assert result["PG_SSLMODE"].value is None
    assert result["DB_HOST"].value == "profile-db.data.svc.cluster.local"
    assert result["POD_IP"].field_path == "status.podIP"
    assert result["MEM"].field_path == "limits.memory"
    assert result["API_TOKEN"].optional


def test_effective_env_without_lookup_keeps_envfrom_as_one_entry():
    container = DEPLOYMENT["spec"]["template"]["spec"]["containers"][0]
    names = [v.name for v in env.effective_env(container)]
    assert names[:2] == ["*", "PG_*"]


def test_value_of_reads_only_literal_values():
    container = DEPLOYMENT["spec"]["template"]["spec"]["containers"][0]
    assert env.value_of(container, "DB_HOST") == "profile-db.data.svc.cluster.local"
    assert env.value_of(container, "DB_PASSWORD") is None


def test_data_keys_never_returns_values():
    assert env.data_keys({"data": {"b": "eA==", "a": "eQ=="}, "binaryData": {"c": "AA=="}}) == [
        "a",
        "b",
        "c",
    ]


@pytest.mark.parametrize(
    ("value", "expanded"),
    [
        ("$(PROFILE_DB_SERVICE_HOST)", "10.96.0.7"),
        ("postgresql://$(DB_USER)@$(PROFILE_DB_SERVICE_HOST):$(PROFILE_DB_SERVICE_PORT)/p",
         "postgresql://app@10.96.0.7:5432/p"),
        ("$(UNDEFINED)", "$(UNDEFINED)"),
        ("$$(DB_USER)", "$(DB_USER)"),
        ("cost $5 and $$", "cost $5 and $"),
        ("$(DB_USER", "$(DB_USER"),
        ("$(" * 10_000, "$(" * 10_000),
    ],
)  # fmt: skip
def test_expand_follows_the_kubelet(value: str, expanded: str) -> None:
    defined = {"DB_USER": "app", "PROFILE_DB_SERVICE_HOST": "10.96.0.7"}
    defined["PROFILE_DB_SERVICE_PORT"] = "5432"
    assert env.expand(value, defined) == expanded


def test_service_variables_are_the_kubelets() -> None:
    service = {
        "kind": "Service",
        "metadata": {"name": "profile-db", "namespace": "app"},
        "spec": {"clusterIP": "10.96.0.7", "ports": [{"name": "pg", "port": 5432}]},
    }
    headless = {"kind": "Service", "metadata": {"name": "h"}, "spec": {"clusterIP": "None"}}
    got = env.service_variables([service, headless])
    assert got["PROFILE_DB_SERVICE_HOST"] == "10.96.0.7"
    assert got["PROFILE_DB_SERVICE_PORT"] == got["PROFILE_DB_SERVICE_PORT_PG"] == "5432"
    assert got["PROFILE_DB_PORT"] == "tcp://10.96.0.7:5432"
    assert got["PROFILE_DB_PORT_5432_TCP_ADDR"] == "10.96.0.7"
    assert not any(k.startswith("H_") for k in got)
