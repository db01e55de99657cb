"""clues.owner_workload: the one way checks find the workload a pod belongs to."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.checks import clues
from paramedic.evidence import model as evidence_model


def _obj(kind: str, name: str, owner: tuple[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "data", "uid": f"uid-{name}"}
    if owner is not None:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "uid": f"uid-{owner[1]}"}]
    return {"kind": kind, "metadata": meta}


@pytest.mark.parametrize(
    ("objects", "owner"),
    [
        ([_obj("StatefulSet", "db")], "StatefulSet data/db"),
        ([_obj("DaemonSet", "db")], "DaemonSet data/db"),
        (
            [_obj("Deployment", "db"), _obj("ReplicaSet", "db-rs", ("Deployment", "db"))],
            "Deployment data/db",
        ),
        ([_obj("ReplicaSet", "db-rs")], "ReplicaSet data/db-rs"),
        ([_obj("StatefulSet", "other")], None),
    ],
)
def test_owner_workload_follows_owner_references_to_the_workload(
    objects: list[dict[str, Any]], owner: str | None
) -> None:
    kind = str(objects[-1]["kind"])
    pod = _obj("Pod", "db-0", (kind, "db-rs" if kind == "ReplicaSet" else "db"))
    ev = evidence_model.Evidence.of([*objects, pod])
    found = clues.owner_workload(ev, pod)
    assert (f"{found['kind']} data/{found['metadata']['name']}" if found else None) == owner


_CONFIG = {
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "app"},
    "data": {"DB_HOST": "profile-db.data", "POOL_SIZE": "10"},
}
_SECRET = {
    "kind": "Secret",
    "metadata": {"name": "creds", "namespace": "app"},
    "data": {"POOL_SIZE": "sha256:000000000000 len=2"},
}


@pytest.mark.parametrize(
    ("container", "values"),
    [
        ({"env": [{"name": "DB_PORT", "value": "5432"}]}, {"DB_PORT": "5432"}),
        (
            {"envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "APP_"}]},
            {"APP_DB_HOST": "profile-db.data", "APP_POOL_SIZE": "10"},
        ),
        (
            {
                "env": [
                    {
                        "name": "HOST",
                        "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "DB_HOST"}},
                    }
                ]
            },
            {"HOST": "profile-db.data"},
        ),
        (
            {
                "envFrom": [{"configMapRef": {"name": "settings"}}],
                "env": [
                    {
                        "name": "DB_HOST",
                        "valueFrom": {"secretKeyRef": {"name": "creds", "key": "DB_HOST"}},
                    }
                ],
            },
            {"POOL_SIZE": "10"},
        ),
        (
            {"envFrom": [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "creds"}}]},
            {"DB_HOST": "profile-db.data"},
        ),
        ({"envFrom": [{"configMapRef": {"name": "absent"}}]}, {}),
    ],
)
def test_env_values_holds_plain_settings_and_drops_what_a_secret_sets(
    container: dict[str, Any], values: dict[str, str]
) -> None:
    ev = evidence_model.Evidence.of([_CONFIG, _SECRET])
    assert clues.env_values(container, ev, "app") == values
