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
