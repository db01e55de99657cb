"""`DB_HOST: $(PROFILE_DB_SERVICE_HOST)` is the Service's IP, as the kubelet expands it, never a
DNS name to blame (issue 13)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model


def _verdicts(links: bool) -> dict[str, str]:
    seed = demos.load(demos.DEFAULT)
    objects: list[dict[str, Any]] = []
    for obj in seed.objects:
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        if obj["kind"] == "Service" and meta["name"] == "profile-db":
            local = copy.deepcopy(obj)
            local["metadata"] = {**meta, "namespace": "app"}
            objects.append(local)  # the same Service, as seen from the client's namespace
        if obj["kind"] in ("Deployment", "ReplicaSet", "Pod") and meta["namespace"] == "app":
            _point_db_host_at_the_service_variable(obj, links)
        objects.append(obj)
    evidence = evidence_model.Evidence.of(objects, logs=seed.logs, incident=seed.incident)
    assert seed.incident is not None
    result = engine.run(runbook_model.builtin("db-connectivity"), evidence, seed.incident)
    return {f.check: f.verdict.value for f in result.findings}


def _point_db_host_at_the_service_variable(obj: dict[str, Any], links: bool) -> None:
    spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"].get("template", {}).get("spec")
    for c in (spec or {}).get("containers", []):
        for var in c.get("env", []):
            if var["name"] == "DB_HOST":
                var["value"] = "$(PROFILE_DB_SERVICE_HOST)"
    if spec and not links:
        spec["enableServiceLinks"] = False


@pytest.mark.parametrize(("links", "dns_cause"), [(True, False), (False, True)])
def test_a_service_variable_in_db_host_is_expanded_unless_service_links_are_off(
    links: bool, dns_cause: bool
) -> None:
    assert (_verdicts(links)["dns"] == "cause") is dns_cause
