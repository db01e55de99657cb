"""The `connection-pool` check and its arithmetic, on the shipped demos and variants of them."""

from __future__ import annotations

from typing import Any

import checkctx
import pytest

from paramedic.checks import connection_pool, model
from paramedic.checks.connection_pool import facts
from paramedic.evidence import demos, probes_file
from paramedic.evidence import model as evidence_model

Objects = list[dict[str, Any]]


def _get(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_exhausted_slots_are_a_cause_with_attribution_and_ranked_fixes_with_numbers() -> None:
    finding = connection_pool.run(checkctx.context("too-many-connections"))
    assert (finding.verdict, finding.confidence, finding.priority) == (
        model.Verdict.CAUSE,
        model.Confidence.HIGH,
        40,
    )
    text = [c.text for c in finding.evidence]
    assert any("sorry, too many clients already" in t for t in text)
    assert any(t.startswith("by application: user-service 152, report-worker 45") for t in text)
    assert any("61 sessions idle in transaction" in t for t in text)
    assert any("8 replicas × 20 (DB_POOL_SIZE=20) = 160" in t for t in text)
    assert finding.fix is not None
    steps = [s.content for s in finding.fix.steps]
    assert steps[0] == "kubectl set env deployment/user-service -n app DB_POOL_SIZE=9"
    assert "AND usename = 'reporting';" in steps[1]
    assert "ALTER ROLE user_service SET idle_in_transaction_session_timeout = '60s';" in steps[2]
    assert (
        '"path": "/spec/template/spec/containers/0/args/1", "value": "max_connections=360"'
        in steps[3]
    )
    assert finding.fix.alternatives[0].startswith("put PgBouncer (pool_mode = transaction)")
    assert finding.details["formula"] == connection_pool.FORMULA
    assert finding.fix.rollback == "kubectl set env deployment/user-service -n app DB_POOL_SIZE=20"


@pytest.mark.parametrize(
    ("container_edit", "path", "value"),
    [
        (
            {"command": ["postgres", "-c", "max_connections=200"], "args": None},
            "/spec/template/spec/containers/0/command/2",
            "max_connections=360",
        ),
        (
            {
                "command": ["docker-entrypoint.sh", "postgres", "--max_connections=200"],
                "args": None,
            },
            "/spec/template/spec/containers/0/command/2",
            "--max_connections=360",
        ),
    ],
)
def test_max_connections_set_in_command_is_raised_by_patching_command(
    container_edit: dict[str, Any], path: str, value: str
) -> None:
    def edit(objects: Objects) -> None:
        for kind, name in (("StatefulSet", "profile-db"), ("Pod", "profile-db-0")):
            obj = _get(objects, kind, name)
            spec = obj["spec"]["template"]["spec"] if kind == "StatefulSet" else obj["spec"]
            container = spec["containers"][0]
            for key, new in container_edit.items():
                if new is None:
                    container.pop(key, None)
                else:
                    container[key] = new

    finding = connection_pool.run(checkctx.context("too-many-connections", edit))
    assert finding.fix is not None
    raise_step = next(s for s in finding.fix.steps if "max_connections" in s.content)
    assert raise_step.language == "shell"
    assert f'"path": "{path}", "value": "{value}"' in raise_step.content
    assert "container command" in raise_step.description


def test_raising_a_default_max_connections_uses_alter_system_and_names_the_restart() -> None:
    finding = connection_pool.run(checkctx.context("two-causes"))
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.fix is not None
    last = finding.fix.steps[-1]
    assert (last.language, last.content) == ("sql", "ALTER SYSTEM SET max_connections = 170;")
    assert (
        "postmaster" in last.description
        and "rollout restart statefulset/profile-db" in last.description
    )
    assert "against a 1Gi memory limit" in last.description


@pytest.mark.parametrize(("demo", "confidence"), [("healthy", "high"), ("seed", "medium")])
def test_pools_that_fit_and_no_53300_are_ruled_out(demo: str, confidence: str) -> None:
    finding = connection_pool.run(checkctx.context(demo))
    assert (finding.verdict, str(finding.confidence)) == (model.Verdict.RULED_OUT, confidence)


def test_pools_that_overcommit_without_errors_are_a_warning_not_a_cause() -> None:
    def big_pools(objects: Objects) -> None:
        for c in _get(objects, "Deployment", "user-service")["spec"]["template"]["spec"][
            "containers"
        ]:
            next(e for e in c["env"] if e["name"] == "DB_POOL_SIZE")["value"] = "90"

    finding = connection_pool.run(checkctx.context("seed", big_pools))
    assert finding.verdict is model.Verdict.WARNING
    assert "at the next rollout" in finding.summary  # 2 x 90 = 180 fits, 3 x 90 = 270 does not


def test_a_probe_that_was_refused_for_lack_of_slots_is_enough_for_a_cause() -> None:
    probe = probes_file.ProbeResult(
        kind="postgres",
        target="profile-db.data.svc.cluster.local:5432",
        outcome="too-many-connections",
        elapsed_ms=12.0,
        detail="FATAL:  sorry, too many clients already",
    )
    finding = connection_pool.run(checkctx.context("seed", probes=(probe,)))
    assert finding.verdict is model.Verdict.CAUSE


def test_without_server_logs_probes_or_limits_it_asks_for_pg_stat_activity() -> None:
    def external(objects: Objects) -> None:
        objects[:] = [
            o for o in objects if o["metadata"].get("namespace") != "app" or o["kind"] != "Pod"
        ]

    finding = connection_pool.run(
        checkctx.context("external-db-firewall", external, logs={}, probes=())
    )
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "pg_stat_activity" in finding.missing


def _db_pod(container: dict[str, Any], *, volumes: list[Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "db-0", "namespace": "data"},
        "spec": {
            "containers": [{"name": "postgres", "image": "postgres:15", **container}],
            "volumes": volumes or [],
        },
    }


_CONF = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "pgconf", "namespace": "data"},
    "data": {
        "postgresql.conf": "shared_buffers = 1GB\nmax_connections = 120   # raised in CHG-1\n"
        "superuser_reserved_connections = 5\n"
    },
}


@pytest.mark.parametrize(
    ("container", "extra", "expected"),
    [
        ({"args": ["-c", "max_connections=250"]}, [], (250, "args", 3, 247)),
        (
            {"args": ["--max_connections=300", "--reserved_connections=2"]},
            [],
            (300, "args", 3, 295),
        ),
        (
            {"env": [{"name": "POSTGRESQL_MAX_CONNECTIONS", "value": "150"}]},
            [],
            (150, "env POSTGRESQL_MAX_CONNECTIONS", 3, 147),
        ),
        (
            {"volumeMounts": [{"name": "conf", "mountPath": "/etc/postgresql"}]},
            [_CONF],
            (120, "ConfigMap data/pgconf postgresql.conf", 5, 115),
        ),
        ({}, [], (100, "default", 3, 97)),
    ],
)
def test_server_limits_come_from_args_env_a_config_map_or_the_defaults(
    container: dict[str, Any], extra: list[dict[str, Any]], expected: tuple[Any, ...]
) -> None:
    volumes = [{"name": "conf", "configMap": {"name": "pgconf"}}] if extra else None
    pod = _db_pod(container, volumes=volumes)
    limits = facts.server_limits(evidence_model.Evidence.of([pod, *extra]), [pod])
    assert limits is not None
    got = (
        limits.max_connections.value,
        limits.max_connections.source,
        limits.superuser_reserved.value,
        limits.usable,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DB_POOL_SIZE": "10"}, (10, "DB_POOL_SIZE=10")),
        (
            {"SQLALCHEMY_POOL_SIZE": "5", "SQLALCHEMY_MAX_OVERFLOW": "10"},
            (15, "SQLALCHEMY_POOL_SIZE=5 + SQLALCHEMY_MAX_OVERFLOW=10"),
        ),
        (
            {"SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE": "12"},
            (12, "SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE=12"),
        ),
        ({"POOL_MAX": "8"}, (8, "POOL_MAX=8")),
        (
            {"DATABASE_URL": "postgres://u:pw@profile-db.data:5432/x?pool_max_conns=7"},
            (7, "DATABASE_URL ?pool_max_conns=7"),
        ),
        ({"DB_HOST": "profile-db"}, (None, "")),
    ],
)
def test_pool_size_is_read_from_every_common_setting(
    env: dict[str, str], expected: tuple[Any, str]
) -> None:
    assert facts.pool_size(env) == expected


@pytest.mark.parametrize(
    ("strategy", "replicas", "peak"),
    [
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}, 8, 10),
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, 8, 9),
        ({}, 2, 3),
        ({"type": "Recreate"}, 8, 8),
    ],
)
def test_rolling_updates_add_max_surge_pods_to_the_peak(
    strategy: dict[str, Any], replicas: int, peak: int
) -> None:
    workload = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "w", "namespace": "app"},
        "spec": {
            "replicas": replicas,
            "strategy": strategy,
            "template": {
                "spec": {
                    "containers": [{"name": "c", "env": [{"name": "DB_POOL_SIZE", "value": "10"}]}]
                }
            },
        },
    }
    demand = facts.demand(evidence_model.Evidence.of([workload]), workload, {"app"})
    assert (demand.peak_pods, demand.steady, demand.peak) == (peak, replicas * 10, peak * 10)


def test_a_per_role_connection_limit_is_named_and_raised_instead_of_max_connections() -> None:
    base = demos.load("seed")
    logs = dict(base.logs)
    logs[("app", "user-service-7d9f8b6c5d-x2x9k", "app")] = (
        "psycopg.OperationalError: connection failed: FATAL:  too many connections for role "
        '"user_service"',
    )
    finding = connection_pool.run(checkctx.context("seed", logs=logs))
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.summary == 'role "user_service" reached its CONNECTION LIMIT (SQLSTATE 53300)'
    assert finding.fix is not None
    assert finding.fix.steps[0].content == 'ALTER ROLE "user_service" CONNECTION LIMIT 40;'


@pytest.mark.parametrize(
    ("replicas", "verdict"),
    [(12, model.Verdict.CAUSE), (2, model.Verdict.WARNING)],
    ids=["over-at-steady-state-is-a-cause", "over-only-at-peak-is-a-warning"],
)
def test_pools_that_overcommit_at_steady_state_are_a_cause_without_any_log(
    replicas: int, verdict: model.Verdict
) -> None:
    def edit(objects: Objects) -> None:
        _get(objects, "Deployment", "user-service")["spec"]["replicas"] = replicas

    ctx = checkctx.context("too-many-connections", edit, logs={}, probes=())
    finding = connection_pool.run(ctx)
    steady, usable = finding.details["demand_steady"], finding.details["usable_slots"]
    assert (finding.verdict, steady > usable) == (verdict, verdict is model.Verdict.CAUSE)
    assert finding.details["demand_peak"] > usable
    if verdict is model.Verdict.CAUSE:
        assert finding.summary.startswith(f"the pools already open up to {steady} connections")
        assert finding.confidence is model.Confidence.MEDIUM
