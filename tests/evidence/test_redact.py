"""Secret values are digested where they enter and can never come back out."""

from __future__ import annotations

import base64
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
