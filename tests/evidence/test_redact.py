"""Secret values are digested where they enter and can never come back out."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from paramedic.evidence import bundle, redact

RAW = "s3cr3t-Pa55w0rd!"


def _secret(**extra: object) -> dict:  # type: ignore[type-arg]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "app",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                    {"data": {"password": RAW}}
                ),
                "owner": "team-a",
            },
        },
        "data": {"password": base64.b64encode(RAW.encode()).decode()},
        **extra,
    }


def test_data_values_become_digests_of_the_decoded_value_with_length() -> None:
    out = redact.secret(_secret())
    assert out["data"]["password"] == redact.digest(RAW.encode())
    assert out["data"]["password"].endswith(f"len={len(RAW)}")


def test_string_data_is_digested_too() -> None:
    out = redact.secret(_secret(stringData={"token": RAW}))
    assert out["stringData"]["token"] == redact.digest(RAW.encode())


def test_last_applied_annotation_is_dropped_and_others_kept() -> None:
    out = redact.secret(_secret())
    assert out["metadata"]["annotations"] == {"owner": "team-a"}


def test_redaction_is_idempotent() -> None:
    once = redact.secret(_secret())
    assert redact.secret(once) == once


def test_the_loader_never_lets_a_value_through(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "objects.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [_secret()]}))
    evidence = bundle.load(path)
    dumped = json.dumps(evidence.objects)
    assert RAW not in dumped
    assert base64.b64encode(RAW.encode()).decode() not in dumped


@pytest.mark.parametrize(
    ("line", "leak"),
    [
        (
            "2026-11-26 03:00:01 UTC [88] LOG:  statement: ALTER ROLE user_service WITH PASSWORD "
            "'NewRotatedPw-31337'",
            "NewRotatedPw-31337",
        ),
        ("CREATE USER app PASSWORD 'it''s-quoted'", "s-quoted"),
        ("connecting to postgresql://user_service:hunter2@10.96.112.40:5432/profiles", "hunter2"),
        ("dsn: host=db user=app password=s3cr3t dbname=x", "s3cr3t"),
        ("env PGPASSWORD=topsecret psql -h db", "topsecret"),
        ('config {"DB_PASSWORD": "p@ss w0rd"}', "p@ss w0rd"),
    ],
)
def test_log_lines_lose_their_credentials(line: str, leak: str) -> None:
    scrubbed = redact.log_line(line)
    assert leak not in scrubbed
    assert "***" in scrubbed


@pytest.mark.parametrize(
    "line",
    [
        'FATAL:  password authentication failed for user "user_service"',
        'connection to server at "10.96.112.40", port 5432 failed: FATAL:  no pg_hba.conf entry',
        "Error: couldn't find key password in Secret app/profile-db-credentials",
    ],
)
def test_error_texts_that_name_passwords_stay_intact(line: str) -> None:
    assert redact.log_line(line) == line


def test_the_loader_scrubs_log_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "objects.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"
    )
    log = tmp_path / "logs" / "data" / "db-0" / "postgres.log"
    log.parent.mkdir(parents=True)
    log.write_text("LOG:  statement: ALTER ROLE u PASSWORD 'Leaky-123'\n")
    evidence = bundle.load(tmp_path)
    assert "Leaky-123" not in json.dumps(list(evidence.logs.values()))


def _deployment() -> dict:  # type: ignore[type-arg]
    probe_cmd = ["sh", "-c", "psql postgresql://app:ProbePw-111@localhost/p -c 'select 1'"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "app",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"env": "LastApplied-222"}',
                "note": "DATABASE_URL=postgresql://app:AnnPw-333@db/p",
            },
        },
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "args": ["--db-password=ArgPw-444"],
                            "env": [
                                {"name": "DB_HOST", "value": "profile-db.data"},
                                {"name": "DB_PASSWORD", "value": "EnvPw-555"},
                                {"name": "API_TOKEN", "value": "EnvTok-666"},
                                {
                                    "name": "DATABASE_URL",
                                    "value": "postgresql://app:UrlPw-777/x@profile-db.data/p",
                                },
                            ],
                            "readinessProbe": {"exec": {"command": probe_cmd}},
                            "livenessProbe": {
                                "httpGet": {
                                    "path": "/",
                                    "httpHeaders": [
                                        {"name": "Authorization", "value": "Bearer HdrTok-888"}
                                    ],
                                }
                            },
                        }
                    ]
                }
            }
        },
    }


def _config_map() -> dict:  # type: ignore[type-arg]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "app"},
        "data": {
            "DB_HOST": "profile-db.data",
            "db-password": "CmPw-999",
            "application.properties": "spring.datasource.password=PropPw-000\nport=5432\n",
        },
    }


MARKERS = (
    "ProbePw-111", "LastApplied-222", "AnnPw-333", "ArgPw-444", "EnvPw-555", "EnvTok-666",
    "UrlPw-777", "HdrTok-888", "CmPw-999", "PropPw-000",
)  # fmt: skip


def test_credentials_in_env_commands_probes_annotations_and_config_maps_never_enter() -> None:
    out = json.dumps(redact.objects([_deployment(), _config_map()]))
    assert [m for m in MARKERS if m in out] == []


def test_what_checks_read_survives_redaction() -> None:
    deployment, config_map = redact.objects([_deployment(), _config_map()])
    env = {
        v["name"]: v["value"]
        for v in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["DB_HOST"] == "profile-db.data"
    assert env["DATABASE_URL"] == "postgresql://***@profile-db.data/p"
    assert redact.is_digest(env["DB_PASSWORD"])
    assert config_map["data"]["DB_HOST"] == "profile-db.data"
    assert "port=5432" in config_map["data"]["application.properties"]
    assert redact.is_digest(config_map["data"]["db-password"])
    annotations = deployment["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations


def test_digests_compare_equal_within_a_run_and_cannot_be_guessed() -> None:
    a = redact.objects([_secret()])[0]["data"]["password"]
    b = redact.objects([_secret()])[0]["data"]["password"]
    assert a == b and a.startswith("hmac:")
    assert hashlib.sha256(RAW.encode()).hexdigest()[:12] not in a


def test_a_bundle_captured_earlier_keeps_its_digests() -> None:
    old = _secret()
    old["data"] = {"password": "sha256:3f9a0c12d7e4 len=32"}
    assert redact.objects([old])[0]["data"] == {"password": "sha256:3f9a0c12d7e4 len=32"}
