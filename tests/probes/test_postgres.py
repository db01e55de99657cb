"""`probes.postgres` against a real PostgreSQL 15: every outcome, the slot arithmetic, redaction."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from paramedic import errors
from paramedic.probes import postgres

from . import probefix_netns, probefix_pg

SECRETS = tuple(probefix_pg.PASSWORDS.values())


@pytest.fixture(autouse=True)
def _no_ambient_password(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))


def _assert_no_secret(result) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps(result.as_dict())
    assert not any(secret in text for secret in SECRETS), text


def test_healthy_server_reports_limits_usable_slots_and_the_formula(
    pg: probefix_pg.Server,
) -> None:
    result = postgres.probe(pg.dsn("app"), timeout=3)
    data = result.data
    assert (result.kind, result.outcome) == ("postgres", "ok"), result.detail
    assert data["server_version"].startswith("15.")
    assert (
        data["max_connections"],
        data["superuser_reserved_connections"],
        data["reserved_connections"],
        data["usable_slots"],
    ) == (10, 2, 0, 8)
    assert (data["in_use"], data["saturation"], data["free_slots"]) == (0, 0.0, 8)
    assert (
        "max_connections - superuser_reserved_connections - reserved_connections"
        in (data["formula"])
    )
    assert (data["user"], data["database"], data["host"], data["port"]) == (
        "app",
        "appdb",
        "127.0.0.1",
        pg.port,
    )
    assert result.target == f"postgresql://app@127.0.0.1:{pg.port}/appdb"
    _assert_no_secret(result)


def test_sessions_are_counted_by_state_user_application_and_client(
    pg: probefix_pg.Server,
) -> None:
    with pg.held(3, "app"):
        data = postgres.probe(pg.dsn("app"), timeout=3).data
    assert (data["in_use"], data["saturation"]) == (3, 0.375)
    assert data["by_state"] == {"idle": 3}
    assert data["by_user"] == {"app": 3}
    assert data["by_application"] == {"holder-0": 2, "holder-1": 1}
    assert data["by_client"] == {"local socket": 3}


def test_idle_in_transaction_sessions_are_listed_longest_first(pg: probefix_pg.Server) -> None:
    with pg.held(2, "app", idle_in_transaction=True):
        time.sleep(0.3)
        data = postgres.probe(pg.dsn("app"), timeout=3).data
    assert data["by_state"] == {"idle in transaction": 2}
    assert data["idle_in_transaction_count"] == 2
    listed = data["idle_in_transaction"]
    assert {item["user"] for item in listed} == {"app"}
    assert set(listed[0]) == {"pid", "user", "application", "client", "seconds"}
    assert listed[0]["seconds"] >= listed[1]["seconds"]
    assert data["longest_idle_in_transaction_s"] == listed[0]["seconds"] >= 0.2


@pytest.mark.parametrize(
    ("user", "visible", "by_state"),
    [("limited", False, {"(hidden)": 2}), ("watcher", True, {"idle": 2})],
)
def test_other_roles_sessions_are_hidden_without_pg_read_all_stats(
    pg: probefix_pg.Server, user: str, visible: bool, by_state: dict[str, int]
) -> None:
    with pg.held(2, "app"):
        data = postgres.probe(pg.dsn(user), timeout=3).data
    assert data["stats_visible"] is visible and data["by_state"] == by_state
    assert data["by_user"] == {"app": 2} and data["in_use"] == 2


@pytest.mark.parametrize(
    ("user", "extra", "password", "outcome", "sqlstate", "said"),
    [
        (
            "app",
            {},
            "wrong-password",
            "auth-failed",
            "28P01",
            'password authentication failed for user "app"',
        ),
        (
            "stranger",
            {},
            None,
            "no-hba-entry",
            "28000",
            'no pg_hba.conf entry for host "127.0.0.1"',
        ),
        ("rejected", {}, None, "no-hba-entry", "28000", "pg_hba.conf rejects connection"),
        (
            "app",
            {"dbname": "nosuch"},
            None,
            "database-missing",
            "3D000",
            'database "nosuch" does not exist',
        ),
    ],
)
def test_server_refusals_are_classified_from_the_fatal_text(
    pg: probefix_pg.Server,
    user: str,
    extra: dict[str, str],
    password: str | None,
    outcome: str,
    sqlstate: str,
    said: str,
) -> None:
    result = postgres.probe(pg.dsn(user, **extra), timeout=3, password=password)
    assert result.outcome == outcome, result.detail
    assert result.data["sqlstate"] == sqlstate
    assert said in result.data["server_message"] and said in result.detail
    _assert_no_secret(result)
    assert "wrong-password" not in json.dumps(result.as_dict())


def test_missing_password_is_an_auth_failure_that_says_none_was_sent(
    pg: probefix_pg.Server,
) -> None:
    result = postgres.probe(pg.dsn("app", password=False), timeout=3)
    assert result.outcome == "auth-failed" and result.data["password_from"] == "none"
    assert "no password supplied" in result.detail


def test_tls_required_by_the_client_but_not_offered_is_a_tls_error(
    pg: probefix_pg.Server,
) -> None:
    result = postgres.probe(pg.dsn("app", sslmode="require"), timeout=3)
    assert result.outcome == "tls-error" and "SSL" in result.detail
    assert result.target.endswith("?sslmode=require")


@pytest.mark.parametrize(
    ("holders", "user", "limit", "said"),
    [
        (
            [(4, "app")],
            "app",
            "superuser_reserved_connections",
            "remaining connection slots are reserved for non-replication superuser connections",
        ),
        (
            [(4, "app"), (2, "postgres")],
            "postgres",
            "max_connections",
            "sorry, too many clients already",
        ),
        ([(1, "limited")], "limited", "role", 'too many connections for role "limited"'),
    ],
)
def test_exhausted_slots_are_too_many_connections_naming_the_limit(
    pg_slots: probefix_pg.Server,
    holders: list[tuple[int, str]],
    user: str,
    limit: str,
    said: str,
) -> None:
    with pg_slots.held(*holders[0]):
        if len(holders) > 1:
            with pg_slots.held(*holders[1]):
                result = postgres.probe(pg_slots.dsn(user, dbname="postgres"), timeout=3)
        else:
            result = postgres.probe(pg_slots.dsn(user, dbname="postgres"), timeout=3)
    assert result.outcome == "too-many-connections", result.detail
    assert (result.data["sqlstate"], result.data["limit"]) == ("53300", limit)
    assert result.data["server_message"] == said


def test_busy_but_not_exhausted_server_reports_saturation_below_one(
    pg_slots: probefix_pg.Server,
) -> None:
    with pg_slots.held(3, "app"):
        data = postgres.probe(pg_slots.dsn("app"), timeout=3).data
    assert (data["usable_slots"], data["in_use"], data["saturation"]) == (4, 3, 0.75)


def test_closed_port_is_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = postgres.probe(f"host=127.0.0.1 port={port} user=app dbname=appdb", timeout=3)
    assert result.outcome == "refused" and result.data["errno"] == "ECONNREFUSED"


def test_unresolvable_host_is_a_dns_error() -> None:
    result = postgres.probe("postgresql://app:app-secret@no-such-db.invalid/appdb", timeout=3)
    assert result.outcome == "dns-error" and result.data["gai_error"]
    _assert_no_secret(result)


@pytest.mark.root
@pytest.mark.parametrize(
    ("rule", "outcome", "errno"),
    [
        (None, "ok", None),
        ("drop", "timeout", "ETIMEDOUT"),
        ("reject with tcp reset", "refused", "ECONNREFUSED"),
        ("reject with icmpx type host-unreachable", "error", "EHOSTUNREACH"),
    ],
)
def test_firewall_in_front_of_postgres_decides_the_outcome(
    firewall: probefix_netns.Netns,
    netns_pg: probefix_pg.Server,
    rule: str | None,
    outcome: str,
    errno: str | None,
) -> None:
    firewall.block(rule)
    result = postgres.probe(netns_pg.dsn("app"), timeout=1.0)
    assert result.outcome == outcome, result.detail
    assert result.data.get("errno") == errno
    assert result.elapsed_ms < 1500


@pytest.mark.root
@pytest.mark.parametrize("timeout", [0.5, 2.5])
def test_black_hole_returns_within_the_timeout_plus_half_a_second_despite_psycopgs_2s_floor(
    firewall: probefix_netns.Netns, netns_pg: probefix_pg.Server, timeout: float
) -> None:
    firewall.block("drop")
    result = postgres.probe(netns_pg.dsn("app"), timeout=timeout)
    assert result.outcome == "timeout"
    assert timeout * 1000 - 50 <= result.elapsed_ms < (timeout + 0.5) * 1000


@pytest.mark.parametrize("how", ["dsn", "uri", "argument", "PGPASSWORD", "passfile"])
def test_every_password_source_connects_and_none_is_ever_shown(
    pg: probefix_pg.Server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    how: str,  # type: ignore[no-untyped-def]
) -> None:
    password = None
    dsn = pg.dsn("app", password=False)
    if how == "dsn":
        dsn = pg.dsn("app")
    elif how == "uri":
        dsn = f"postgresql://app:app-secret@127.0.0.1:{pg.port}/appdb"
    elif how == "argument":
        password = "app-secret"
    elif how == "PGPASSWORD":
        monkeypatch.setenv("PGPASSWORD", "app-secret")
    else:
        passfile = tmp_path / "pgpass"
        passfile.write_text(f"127.0.0.1:{pg.port}:appdb:app:app-secret\n")
        os.chmod(passfile, 0o600)
        monkeypatch.setenv("PGPASSFILE", str(passfile))
    result = postgres.probe(dsn, timeout=3, password=password)
    assert result.outcome == "ok", result.detail
    assert result.data["password_from"] == ("dsn" if how == "uri" else how)
    assert result.target == f"postgresql://app@127.0.0.1:{pg.port}/appdb"
    _assert_no_secret(result)


@pytest.mark.parametrize(
    "dsn",
    ["host=db password='unterminated", "postgresql://a:s3cr3t@db:x/y", "not a dsn at all s3cr3t"],
)
def test_malformed_dsn_is_an_input_error_that_does_not_echo_it(dsn: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        postgres.probe(dsn, timeout=1)
    assert "s3cr3t" not in str(caught.value) and "unterminated" not in str(caught.value)


def test_unix_socket_connection_needs_no_resolution_and_shows_the_socket_dir(
    pg: probefix_pg.Server,
) -> None:
    result = postgres.probe(
        {"host": pg.socket_dir, "port": pg.port, "user": "app", "dbname": "appdb"}, timeout=3
    )
    assert result.outcome == "ok", result.detail
    assert result.target == f"postgresql://app@/appdb?host={pg.socket_dir}&port={pg.port}"
    assert "address" not in result.data and result.data["by_client"] == {}
