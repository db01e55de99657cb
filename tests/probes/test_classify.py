"""`probes.classify`: libpq/server texts that the real PostgreSQL 15 here cannot produce.

The PG 15 texts are exercised end to end in test_postgres.py; this table adds PostgreSQL 16+
(postinit.c), older servers, pgbouncer and client-side libpq texts, verbatim.
"""

from __future__ import annotations

import pytest

from paramedic.probes import classify

PREFIX = 'connection failed: connection to server at "10.96.112.40", port 5432 failed: '


@pytest.mark.parametrize(
    ("text", "outcome", "sqlstate", "limit"),
    [
        (
            PREFIX + "FATAL:  sorry, too many clients already",
            "too-many-connections",
            "53300",
            "max_connections",
        ),
        (
            PREFIX + "FATAL:  remaining connection slots are reserved for roles with privileges of "
            'the "pg_use_reserved_connections" role',
            "too-many-connections",
            "53300",
            "reserved_connections",
        ),
        (
            PREFIX + "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER "
            "attribute",
            "too-many-connections",
            "53300",
            "superuser_reserved_connections",
        ),
        (
            PREFIX
            + "FATAL:  remaining connection slots are reserved for non-replication superuser "
            "connections",
            "too-many-connections",
            "53300",
            "superuser_reserved_connections",
        ),
        (
            PREFIX + "FATAL:  remaining connection slots are reserved for roles with privileges of "
            'the "rds_reserved" role',
            "too-many-connections",
            "53300",
            "reserved_connections",
        ),
        (
            PREFIX + 'FATAL:  too many connections for role "user_service"',
            "too-many-connections",
            "53300",
            "role",
        ),
        (
            PREFIX + 'FATAL:  too many connections for database "profiles"',
            "too-many-connections",
            "53300",
            "database",
        ),
        (
            PREFIX + "FATAL:  no more connections allowed (max_client_conn)",
            "too-many-connections",
            None,
            "pgbouncer",
        ),
        (
            PREFIX + 'FATAL:  password authentication failed for user "user_service"',
            "auth-failed",
            "28P01",
            None,
        ),
        (
            PREFIX + 'FATAL:  Ident authentication failed for user "app"',
            "auth-failed",
            "28000",
            None,
        ),
        (PREFIX + 'FATAL:  role "ghost" does not exist', "auth-failed", "28000", None),
        (PREFIX + 'FATAL:  role "app" is not permitted to log in', "auth-failed", "28000", None),
        (
            PREFIX + 'FATAL:  no pg_hba.conf entry for host "10.244.1.7", user "app", database '
            '"profiles", SSL off',
            "no-hba-entry",
            "28000",
            None,
        ),
        (
            PREFIX + 'FATAL:  no pg_hba.conf entry for host "10.244.1.7", user "app", database '
            '"profiles", SSL encryption',
            "no-hba-entry",
            "28000",
            None,
        ),
        (PREFIX + 'FATAL:  database "profiles" does not exist', "database-missing", "3D000", None),
        (PREFIX + "FATAL:  the database system is starting up", "error", "57P03", None),
        (PREFIX + 'FATAL:  permission denied for database "profiles"', "error", "42501", None),
        (PREFIX + "fe_sendauth: no password supplied", "auth-failed", None, None),
        (PREFIX + "server does not support SSL, but SSL was required", "tls-error", None, None),
        (PREFIX + "SSL error: certificate verify failed", "tls-error", None, None),
        (
            'connection failed: could not translate host name "db.data" to address: Temporary '
            "failure in name resolution",
            "dns-error",
            None,
            None,
        ),
        (
            "failed to resolve host 'db.data': [Errno -2] Name or service not known",
            "dns-error",
            None,
            None,
        ),
        (
            PREFIX + "Connection refused\n\tIs the server running on that host and accepting "
            "TCP/IP connections?",
            "refused",
            None,
            None,
        ),
        (PREFIX + "Connection timed out", "timeout", None, None),
        ("connection timeout expired", "timeout", None, None),
        (PREFIX + "No route to host", "error", None, None),
        (
            PREFIX + "server closed the connection unexpectedly\n\tThis probably means the server "
            "terminated abnormally",
            "error",
            None,
            None,
        ),
        # A localized server (lc_messages=de_DE): kept as `error`, with the server's text.
        (
            PREFIX + "FATAL:  Passwort-Authentifizierung für Benutzer »app« fehlgeschlagen",
            "error",
            None,
            None,
        ),
    ],
)
def test_connect_error_text_is_classified(
    text: str, outcome: str, sqlstate: str | None, limit: str | None
) -> None:
    found = classify.connect_error(text)
    assert (found.outcome, found.sqlstate, found.limit) == (outcome, sqlstate, limit)


@pytest.mark.parametrize(
    ("text", "errno"),
    [
        (PREFIX + "Connection refused", "ECONNREFUSED"),
        (PREFIX + "No route to host", "EHOSTUNREACH"),
        (PREFIX + "Network is unreachable", "ENETUNREACH"),
        (PREFIX + "Connection timed out", "ETIMEDOUT"),
    ],
)
def test_client_side_network_errors_carry_an_errno(text: str, errno: str) -> None:
    assert classify.connect_error(text).errno == errno


def test_known_sqlstate_wins_over_an_unknown_text() -> None:
    found = classify.connect_error(PREFIX + "FATAL:  Zu viele Verbindungen", sqlstate="53300")
    assert (found.outcome, found.sqlstate) == ("too-many-connections", "53300")


def test_server_message_is_the_last_fatal_line_without_the_prefix() -> None:
    text = (
        PREFIX + 'FATAL:  database "a" does not exist\nMultiple connection attempts failed.'
        ' All failures were:\n- host: "h", port: 5432, hostaddr: "10.0.0.2": FATAL:  '
        'database "b" does not exist'
    )
    assert classify.server_message(text) == 'database "b" does not exist'
