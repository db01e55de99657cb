"""The error-signature table: every signature recognised one by one, order conflicts resolved,
and the texts a real PostgreSQL 15 and libpq produce classified correctly."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg  # a runtime dependency: always there, never a reason to skip
import pytest

from paramedic.checks import signatures

# (line as a client or server prints it, signature id, meaning). At least one per signature:
# test_every_signature_has_a_case keeps it that way.
CASES = [
    (
        "envoy-rbac-denied",
        "mesh-authz-denied",
        '[2026-12-03T10:02:11.482Z] "- - -" 0 - rbac_access_denied_matched_policy[ns[data]-policy'
        '[deny-batch]-rule[0]] "-" 0 0 0 - "-" "-" "-" "-" "-" inbound|5432|| - 10.2.0.10:5432 '
        "10.1.0.13:40412 - -",
    ),
    ("envoy-rbac-denied", "mesh-authz-denied", "RBAC: access denied"),
    (
        "envoy-filter-chain-not-found",
        "mesh-mtls-refused",
        '[2026-12-03T10:02:11.482Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" '
        '"-" "-" "-" - - 10.2.0.10:5432 10.1.0.12:40412 - -',
    ),
    (
        "envoy-upstream-reset",
        "mesh-upstream-reset",
        "upstream connect error or disconnect/reset before headers. reset reason: connection "
        "termination",
    ),
    (
        "envoy-upstream-reset",
        "mesh-upstream-reset",
        '"- - -" 0 UF,URX upstream_reset_before_response_started{connection_termination} - "-" '
        '0 0 1 - "-" "-" "-" "-" "10.2.0.10:5432" outbound|5432||profile-db.data.svc',
    ),
    (
        "pg-too-many-clients",
        "too-many-connections",
        "2026-11-26 04:12:09.311 UTC [812] FATAL:  sorry, too many clients already",
    ),
    (
        "pg-too-many-clients",
        "too-many-connections",
        "psycopg.OperationalError: connection failed: connection to server at "
        '"10.96.14.20", port 5432 failed: FATAL:  sorry, too many clients already',
    ),
    (
        "pg-too-many-clients",
        "too-many-connections",
        "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already",
    ),
    (
        "pg-too-many-clients",
        "too-many-connections",
        "failed to connect to `host=profile-db.data.svc.cluster.local user=user_service "
        "database=profiles`: server error (FATAL: sorry, too many clients already "
        "(SQLSTATE 53300))",
    ),
    (
        "pg-too-many-clients",
        "too-many-connections",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server "
        'at "profile-db.data.svc.cluster.local" (10.96.14.20), port 5432 failed: FATAL:  '
        "sorry, too many clients already",
    ),
    (
        "pg-too-many-clients",
        "too-many-connections",
        "error: sorry, too many clients already",
    ),
    (
        "pg-reserved-superuser-pre16",
        "too-many-connections",
        "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
    ),
    (
        "pg-reserved-superuser-16",
        "too-many-connections",
        "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute",
    ),
    (
        "pg-reserved-role-16",
        "too-many-connections",
        "FATAL:  remaining connection slots are reserved for roles with privileges of the "
        '"pg_use_reserved_connections" role',
    ),
    (
        "pg-too-many-for-role",
        "too-many-connections",
        'pq: too many connections for role "user_service"',
    ),
    (
        "pg-too-many-for-database",
        "too-many-connections",
        'FATAL:  too many connections for database "profiles"',
    ),
    (
        "sqlstate-53300",
        "too-many-connections",
        "ERROR: connect failed (SQLSTATE 53300)",
    ),
    (
        "pgbouncer-max-client-conn",
        "pooler-full",
        "ERROR:  no more connections allowed (max_client_conn)",
    ),
    (
        "hikari-pool-timeout",
        "client-pool-exhausted",
        "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not "
        "available, request timed out after 30000ms.",
    ),
    (
        "sqlalchemy-queuepool-limit",
        "client-pool-exhausted",
        "sqlalchemy.exc.TimeoutError: QueuePool limit of size 10 overflow 5 reached, "
        "connection timed out, timeout 30.00 (Background on this error at: "
        "https://sqlalche.me/e/20/3o7r)",
    ),
    (
        "pgx-pool-acquire-timeout",
        "client-pool-exhausted",
        "failed to acquire connection from pool: context deadline exceeded",
    ),
    (
        "pg-password-failed",
        "auth-failed",
        'FATAL:  password authentication failed for user "user_service"',
    ),
    (
        "pg-password-failed",
        "auth-failed",
        "failed to connect to `host=profile-db user=user_service database=profiles`: "
        'failed SASL auth (FATAL: password authentication failed for user "user_service" '
        "(SQLSTATE 28P01))",
    ),
    (
        "sqlstate-28p01",
        "auth-failed",
        "pq: authentication failed (SQLSTATE 28P01)",
    ),
    (
        "libpq-no-password",
        "auth-failed",
        "fe_sendauth: no password supplied",
    ),
    (
        "jdbc-no-password",
        "auth-failed",
        "org.postgresql.util.PSQLException: The server requested password-based "
        "authentication, but no password was provided.",
    ),
    (
        "node-pg-scram-password",
        "auth-failed",
        "Error: SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string",
    ),
    (
        "pg-no-hba-entry",
        "no-hba-entry",
        'FATAL:  no pg_hba.conf entry for host "10.244.1.7", user "user_service", database '
        '"profiles", no encryption',
    ),
    (
        "pg-database-missing",
        "db-missing",
        'FATAL:  database "profile" does not exist',
    ),
    (
        "sqlstate-3d000",
        "db-missing",
        'error: connect failed code: "3D000"',
    ),
    (
        "pg-starting-up",
        "db-not-ready",
        "FATAL:  the database system is in recovery mode",
    ),
    (
        "pg-backend-killed",
        "db-crashed",
        "2026-11-26 04:02:11.101 UTC [1] LOG:  server process (PID 201) was terminated by "
        "signal 9: Killed",
    ),
    (
        "pg-idle-in-transaction-timeout",
        "idle-session-killed",
        "FATAL:  terminating connection due to idle-in-transaction timeout",
    ),
    (
        "coredns-loop",
        "dns-loop",
        '[FATAL] plugin/loop: Loop (127.0.0.1:59612 -> :53) detected for zone ".", see '
        'https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO '
        '7217183479582224315.1537367227343549047."',
    ),
    (
        "coredns-upstream-error",
        "dns-servfail",
        "[ERROR] plugin/errors: 2 profile-db.data.svc.cluster.local.ec2.internal. A: read "
        "udp 10.244.0.5:51234->10.0.0.2:53: i/o timeout",
    ),
    (
        "gai-temporary",
        "dns-temporary",
        'could not translate host name "profile-db.data.svc.cluster.local" to address: '
        "Temporary failure in name resolution",
    ),
    (
        "gai-nxdomain-glibc",
        "dns-nxdomain",
        "psycopg.OperationalError: connection failed: could not translate host name "
        '"profile-db" to address: Name or service not known',
    ),
    (
        "gai-nxdomain-musl",
        "dns-nxdomain",
        'could not translate host name "profile-db" to address: Name does not resolve',
    ),
    (
        "gai-nodata",
        "dns-nxdomain",
        "socket.gaierror: [Errno -5] No address associated with hostname",
    ),
    (
        "go-no-such-host",
        "dns-nxdomain",
        "dial tcp: lookup profile-db on 10.96.0.10:53: no such host",
    ),
    (
        "go-lookup-servfail",
        "dns-temporary",
        "dial tcp: lookup profile-db.data.svc.cluster.local on 10.96.0.10:53: server misbehaving",
    ),
    (
        "go-lookup-timeout",
        "dns-temporary",
        "dial tcp: lookup profile-db.data.svc.cluster.local on 10.96.0.10:53: read udp "
        "10.244.1.7:45233->10.96.0.10:53: i/o timeout",
    ),
    (
        "node-enotfound",
        "dns-nxdomain",
        "Error: getaddrinfo ENOTFOUND profile-db",
    ),
    (
        "node-eai-again",
        "dns-temporary",
        "Error: getaddrinfo EAI_AGAIN profile-db.data.svc.cluster.local",
    ),
    (
        "nslookup-nxdomain",
        "dns-nxdomain",
        "** server can't find profile-db.app.svc.cluster.local: NXDOMAIN",
    ),
    (
        "nslookup-servfail",
        "dns-temporary",
        ";; connection timed out; no servers could be reached",
    ),
    (
        "nslookup-cannot-resolve",
        "dns-failed",
        "nslookup: can't resolve 'kubernetes.default'",
    ),
    (
        "java-unknown-host",
        "dns-failed",
        "org.postgresql.util.PSQLException: The connection attempt failed. Caused by: "
        "java.net.UnknownHostException: profile-db",
    ),
    (
        "libpq-translate-host",
        "dns-failed",
        'could not translate host name "profile-db" to address: Unbekannter Name oder Dienst',
    ),
    (
        "probe-timeout",
        "probe-timeout",
        'Readiness probe failed: Get "http://10.244.1.7:8080/ready": context deadline '
        "exceeded (Client.Timeout exceeded while awaiting headers)",
    ),
    (
        "probe-failed",
        "probe-failed",
        "Liveness probe failed: HTTP probe failed with statuscode: 503",
    ),
    (
        "liveness-restart",
        "liveness-restart",
        "Container user-service failed liveness probe, will be restarted",
    ),
    (
        "tcp-timed-out",
        "tcp-timeout",
        'connection to server at "203.0.113.10", port 5432 failed: Connection timed '
        "out\n\tIs the server running on that host and accepting TCP/IP connections?",
    ),
    (
        "psycopg-connection-timeout",
        "tcp-timeout",
        "psycopg.errors.ConnectionTimeout: connection timeout expired",
    ),
    (
        "go-dial-timeout",
        "tcp-timeout",
        "failed to connect to `host=203.0.113.10 user=user_service database=profiles`: "
        "dial error (timeout: dial tcp 203.0.113.10:5432: i/o timeout)",
    ),
    (
        "node-pg-connect-timeout",
        "tcp-timeout",
        "Error: Connection terminated due to connection timeout",
    ),
    (
        "tcp-refused",
        "tcp-refused",
        'connection to server at "profile-db.data.svc.cluster.local" (10.96.14.20), port '
        "5432 failed: Connection refused",
    ),
    (
        "tcp-refused",
        "tcp-refused",
        "dial tcp 10.96.14.20:5432: connect: connection refused",
    ),
    (
        "jdbc-refused",
        "tcp-refused",
        "org.postgresql.util.PSQLException: Connection to profile-db:5432 refused. Check "
        "that the hostname and port are correct and that the postmaster is accepting "
        "TCP/IP connections.",
    ),
    (
        "no-route",
        "no-route",
        "java.net.NoRouteToHostException: No route to host (Host unreachable)",
    ),
    (
        "cilium-policy-denied",
        "policy-denied",
        "Nov 26 03:06:04.118: app/user-service-7d9f8b6c5d-x2x9k:51514 (ID:48211) <> "
        "data/profile-db-0:5432 (ID:31907) Policy denied DROPPED (TCP Flags: SYN)",
    ),
    (
        "server-closed",
        "conn-reset",
        "server closed the connection unexpectedly\n\tThis probably means the server "
        "terminated abnormally",
    ),
    (
        "conn-reset",
        "conn-reset",
        "read tcp 10.244.1.7:51514->10.96.14.20:5432: read: connection reset by peer",
    ),
    (
        "node-pg-terminated",
        "conn-reset",
        "Error: Connection terminated unexpectedly",
    ),
    (
        "pg-admin-terminate",
        "conn-reset",
        "FATAL:  terminating connection due to administrator command",
    ),
]

NOT_ERRORS = [
    "2026-11-26 04:00:01.002 UTC [1] LOG:  database system is ready to accept connections",
    '[INFO] 10.244.1.7:41237 - 4452 "A IN profile-db.data.svc.cluster.local. udp 54 false 512"'
    " NOERROR qr,aa,rd 106 0.0001s",
    "INFO  [main] c.e.userservice.Application: Started Application in 6.2 seconds",
    "GET /ready 200 12ms",
    "",
]


@pytest.mark.parametrize(
    ("signature_id", "meaning", "line"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_line_is_recognised_as_its_signature(signature_id: str, meaning: str, line: str) -> None:
    found = signatures.classify(line)
    assert found is not None, line
    assert (found.id, found.meaning) == (signature_id, meaning)


def test_every_signature_has_a_case() -> None:
    covered = {c[0] for c in CASES}
    assert [s.id for s in signatures.table().signatures if s.id not in covered] == []


@pytest.mark.parametrize(
    ("signature_id", "example"),
    [(s.id, e) for s in signatures.table().signatures for e in s.examples],
)
def test_table_examples_match_their_own_signature_first(signature_id: str, example: str) -> None:
    found = signatures.classify(example)
    assert found is not None and found.id == signature_id


@pytest.mark.parametrize("line", NOT_ERRORS)
def test_ordinary_lines_are_not_errors(line: str) -> None:
    assert signatures.classify(line) is None


def test_every_meaning_used_is_described() -> None:
    table = signatures.table()
    assert {s.meaning for s in table.signatures} <= set(table.meanings)
    assert all(signatures.describe(m) for m in signatures.meanings())


def test_scan_reports_one_match_per_recognised_line_with_1_based_numbers() -> None:
    lines = [
        "LOG:  database system is ready to accept connections",
        "FATAL:  sorry, too many clients already",
        "nothing here",
        "Error: getaddrinfo ENOTFOUND profile-db",
    ]
    found = [(m.meaning, m.line_no, m.line, m.signature_id) for m in signatures.scan(lines)]
    assert found == [
        ("too-many-connections", 2, lines[1], "pg-too-many-clients"),
        ("dns-nxdomain", 4, lines[3], "node-enotfound"),
    ]


_HEAD = "schema: paramedic.signatures/v1\nmeanings: {a: x}\nsignatures:\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("schema: other/v1\n", "schema"),
        (_HEAD + "- {id: s, meaning: b, pattern: x}\n", "unknown meaning"),
        (_HEAD + "- {id: s, meaning: a, pattern: '('}\n", "bad pattern"),
        (_HEAD + "- just a string\n", r"signatures\[0\]: expected a mapping"),
        (
            _HEAD + "- {id: s, meaning: a, pattern: x}\n- {id: s, meaning: a, pattern: y}\n",
            "duplicate",
        ),
    ],
)
def test_a_broken_table_is_rejected_with_the_entry_named(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        signatures.parse(text)


# --- texts from a real PostgreSQL 15 and libpq (psycopg) ------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[int]:
    """A throwaway PostgreSQL 15 (max_connections=4, superuser_reserved_connections=1), run as the
    `postgres` system user; yields its port."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("initdb/pg_ctl (PostgreSQL 15) not on PATH")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to start PostgreSQL as the postgres user")
    base = Path(tempfile.mkdtemp(prefix="paramedic-sig-"))
    shutil.chown(base, user="postgres")
    data, port = base / "data", _free_port()

    def as_postgres(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60
        )

    try:
        as_postgres("initdb", "-D", str(data), "-U", "postgres", "--auth=trust")
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host postgres postgres 127.0.0.1/32 trust\n"
            "host profiles user_service 127.0.0.1/32 scram-sha-256\n"
            "host postgres user_service 127.0.0.1/32 scram-sha-256\n"
        )
        as_postgres(
            "pg_ctl",
            "-D",
            str(data),
            "-w",
            "-t",
            "30",
            "-l",
            str(base / "log"),
            "-o",
            f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} "
            "-c max_connections=4 -c superuser_reserved_connections=1",
            "start",
        )
        as_postgres(
            "psql",
            "-h",
            str(base),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-c",
            "CREATE ROLE user_service LOGIN PASSWORD 'right'",
        )
        yield port
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "pg_ctl", "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


_APP = "host=127.0.0.1 port={port} user=user_service"


def _connect_error(dsn: str) -> str:
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return str(exc)
    raise AssertionError(f"connecting with {dsn!r} succeeded")


@pytest.mark.root
@pytest.mark.parametrize(
    ("dsn", "meaning"),
    [
        (_APP + " password=wrong dbname=postgres", "auth-failed"),
        (_APP + " password=right dbname=template1", "no-hba-entry"),
        (_APP + " password=right dbname=profiles", "db-missing"),
        ("host=127.0.0.1 port={closed} user=postgres dbname=postgres", "tcp-refused"),
    ],
)
def test_real_libpq_errors_are_classified(postgres: int, dsn: str, meaning: str) -> None:
    text = _connect_error(dsn.format(port=postgres, closed=_free_port()))
    assert [m.meaning for m in signatures.scan([text])] == [meaning], text


@pytest.mark.root
def test_real_connection_exhaustion_gives_both_53300_texts(postgres: int) -> None:
    regular = f"host=127.0.0.1 port={postgres} user=user_service password=right dbname=postgres"
    superuser = f"host=127.0.0.1 port={postgres} user=postgres dbname=postgres"
    with contextlib.ExitStack() as held:
        for _ in range(3):  # max_connections 4 - superuser_reserved 1 = 3 usable slots
            held.enter_context(psycopg.connect(regular, connect_timeout=3))
        reserved = _connect_error(regular)
        held.enter_context(psycopg.connect(superuser, connect_timeout=3))
        full = _connect_error(superuser)
    assert [m.signature_id for m in signatures.scan([reserved, full])] == [
        "pg-reserved-superuser-pre16",
        "pg-too-many-clients",
    ]
