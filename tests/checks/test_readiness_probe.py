"""The `readiness-probe` check: what breaks next, and the exact probe patch."""

from __future__ import annotations

import json
from typing import Any

import checkctx
import pytest

from paramedic.checks import model, readiness_probe

Objects = list[dict[str, Any]]
DNS_CAUSE = model.Finding(check="dns", verdict=model.Verdict.CAUSE, summary="x", priority=20)
POOL_CAUSE = model.Finding(
    check="connection-pool", verdict=model.Verdict.CAUSE, summary="y", priority=40
)


def _container(objects: Objects) -> dict[str, Any]:
    dep = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "user-service"
    )
    return dep["spec"]["template"]["spec"]["containers"][0]


def _patch(finding: model.Finding) -> dict[str, Any]:
    return dict(finding.details["patches"][0])


def test_reference_probe_warns_once_the_first_cause_is_fixed_with_the_exact_patch() -> None:
    finding = readiness_probe.run(
        checkctx.context("seed", earlier={"connection-pool": POOL_CAUSE, "dns": DNS_CAUSE})
    )
    assert finding.verdict is model.Verdict.WARNING
    assert finding.summary.startswith(
        "once dns is fixed, expect the readiness probe GET /ready (timeout 1 s"
    )
    assert any(
        "calls the database (log: health /ready: database ping failed" in c.text
        for c in finding.evidence
    )
    assert any("context deadline exceeded" in c.text for c in finding.evidence)
    assert finding.fix is not None
    content = finding.fix.steps[0].content
    assert content.startswith("kubectl -n app patch deployment user-service --type strategic -p '")
    body = json.loads(content.split(" -p '", 1)[1].rstrip("'"))
    assert body["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] == {
        "timeoutSeconds": 3,
        "failureThreshold": 3,
        "periodSeconds": 10,
    }


def test_without_any_cause_the_warning_speaks_of_a_slow_database() -> None:
    finding = readiness_probe.run(checkctx.context("seed"))
    assert finding.summary.startswith("when the database is slow or restarts, expect")


def test_tolerant_probes_that_do_not_call_the_db_from_liveness_are_ruled_out() -> None:
    assert readiness_probe.run(checkctx.context("healthy")).verdict is model.Verdict.RULED_OUT


@pytest.mark.parametrize(
    "liveness",
    [
        {"httpGet": {"path": "/health/db", "port": "http"}, "timeoutSeconds": 5},
        {"exec": {"command": ["sh", "-c", "pg_isready -h $DB_HOST"]}, "timeoutSeconds": 5},
    ],
)
def test_a_liveness_probe_that_calls_the_db_is_replaced_by_a_tcp_check(
    liveness: dict[str, Any],
) -> None:
    finding = readiness_probe.run(
        checkctx.context("healthy", lambda objs: _container(objs).update(livenessProbe=liveness))
    )
    assert finding.verdict is model.Verdict.WARNING
    patched = _patch(finding)["livenessProbe"]
    assert patched["tcpSocket"] == {"port": "http"}
    assert patched["httpGet"] is None and patched["exec"] is None
    assert "53300" in finding.summary


def test_failure_threshold_one_alone_is_worth_a_warning() -> None:
    def strict(objs: Objects) -> None:
        _container(objs)["readinessProbe"]["failureThreshold"] = 1

    finding = readiness_probe.run(checkctx.context("healthy", strict))
    assert finding.verdict is model.Verdict.WARNING
    assert any("failureThreshold 1" in c.text for c in finding.evidence)


def test_liveness_kills_during_start_up_get_a_startup_probe() -> None:
    def kills(objs: Objects) -> None:
        _container(objs)["livenessProbe"]["timeoutSeconds"] = 1
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "user-service-7d9f8b6c5d-x2x9k.1", "namespace": "app"},
                "involvedObject": {
                    "kind": "Pod",
                    "name": "user-service-7d9f8b6c5d-x2x9k",
                    "namespace": "app",
                },
                "reason": "Killing",
                "type": "Normal",
                "count": 6,
                "message": "Container app failed liveness probe, will be restarted",
            }
        )

    patch = _patch(readiness_probe.run(checkctx.context("healthy", kills)))
    assert patch["startupProbe"] == {
        "tcpSocket": {"port": "http"},
        "periodSeconds": 10,
        "failureThreshold": 30,
    }


def test_a_database_liveness_probe_with_a_1s_timeout_gets_its_own_patch() -> None:
    def strict_db(objs: Objects) -> None:
        sts = next(
            o for o in objs if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "profile-db"
        )
        sts["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = {
            "exec": {"command": ["pg_isready", "-U", "postgres"]},
            "timeoutSeconds": 1,
        }

    finding = readiness_probe.run(checkctx.context("healthy", strict_db))
    assert finding.verdict is model.Verdict.WARNING
    assert finding.details["database_patches"] == [
        {
            "name": "postgres",
            "livenessProbe": {"timeoutSeconds": 5, "failureThreshold": 6, "periodSeconds": 10},
        }
    ]
    assert finding.fix is not None
    assert finding.fix.steps[0].content.startswith("kubectl -n data patch statefulset profile-db")
