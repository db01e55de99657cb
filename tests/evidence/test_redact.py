"""Secret values are digested where they enter and can never come back out."""

from __future__ import annotations

import base64
import json

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
