"""Sort a failed PostgreSQL connect into an outcome, from the error text.

psycopg 3 raises a plain `OperationalError` with `sqlstate=None` for every connect failure,
even when the server sent 28P01 or 53300 on the wire (psycopg#1188; FAILURE-FACTS §2). The only
thing left is libpq's message, e.g.

    connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password
    authentication failed for user "app"

so this module matches the server's FATAL text (PostgreSQL's own wording, postinit.c, auth.c)
and libpq's client-side texts (fe-connect.c) against a table, first match wins. Server texts
come first: they are authoritative, and some contain words ("SSL off") that a client-side
pattern would misread. When a SQLSTATE *is* known (psycopg may fill it one day), it wins.

Texts are English; a server with a localized `lc_messages` yields `error` with its message kept.
"""

from __future__ import annotations

import dataclasses
import re

from paramedic.probes import outcomes

# (pattern, outcome, sqlstate, limit) - `limit` says which connection limit was hit (53300).
_SERVER = [
    (r"sorry, too many clients already", "too-many-connections", "53300", "max_connections"),
    (
        r"remaining connection slots are reserved for roles with privileges of",
        "too-many-connections",
        "53300",
        "reserved_connections",
    ),  # PG 16+
    (
        r"remaining connection slots are reserved for roles with the superuser attribute",
        "too-many-connections",
        "53300",
        "superuser_reserved_connections",
    ),  # PG 16+
    (
        r"remaining connection slots are reserved for non-replication superuser",
        "too-many-connections",
        "53300",
        "superuser_reserved_connections",
    ),  # PG < 16
    (r"remaining connection slots are reserved", "too-many-connections", "53300", "reserved"),
    (r"too many connections for role", "too-many-connections", "53300", "role"),
    (r"too many connections for database", "too-many-connections", "53300", "database"),
    (r"no more connections allowed", "too-many-connections", None, "pgbouncer"),
    (r"no pg_hba\.conf entry for", "no-hba-entry", "28000", None),
    (r"pg_hba\.conf rejects connection", "no-hba-entry", "28000", None),
    (r"password authentication failed for user", "auth-failed", "28P01", None),
    (r"authentication failed for user", "auth-failed", "28000", None),
    (r"role \".*\" does not exist", "auth-failed", "28000", None),
    (r"role \".*\" is not permitted to log in", "auth-failed", "28000", None),
    (r"database \".*\" does not exist", "database-missing", "3D000", None),
    (r"permission denied for database", "error", "42501", None),
    (r"is not currently accepting connections", "error", "55000", None),
    (
        r"the database system is (starting up|shutting down|in recovery mode|not yet accepting)",
        "error",
        "57P03",
        None,
    ),
]

# libpq's own texts (no SQLSTATE exists for these): (pattern, outcome, errno).
_CLIENT = [
    (r"no password supplied|password is required|server requested .*password", "auth-failed", None),
    (r"ssl|tls|certificate|channel binding", "tls-error", None),
    (
        r"could not translate host name|failed to resolve host|name or service not known"
        r"|temporary failure in name resolution|nodename nor servname|name does not resolve",
        "dns-error",
        None,
    ),
    (r"connection refused", "refused", "ECONNREFUSED"),
    (r"timeout expired|timed out", "timeout", "ETIMEDOUT"),
    (r"no route to host", "error", "EHOSTUNREACH"),
    (r"network is unreachable", "error", "ENETUNREACH"),
    (r"connection reset by peer", "error", "ECONNRESET"),
    (r"server closed the connection unexpectedly", "error", "ECONNRESET"),
]

_BY_SQLSTATE = {
    "28P01": outcomes.Postgres.AUTH_FAILED,
    "28000": outcomes.Postgres.AUTH_FAILED,
    "3D000": outcomes.Postgres.DATABASE_MISSING,
    "53300": outcomes.Postgres.TOO_MANY_CONNECTIONS,
}

_FATAL = re.compile(r"(?:FATAL|ERROR):\s+(.*)")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Classified:
    """How a connect failed: outcome, SQLSTATE when known, the server's own line, errno."""

    outcome: outcomes.Postgres
    sqlstate: str | None = None
    server_message: str = ""
    errno: str | None = None
    limit: str | None = None


def server_message(text: str) -> str:
    """The server's FATAL line of a libpq message ("" when the failure was client-side)."""
    found = _FATAL.findall(text)
    return found[-1].strip() if found else ""


def connect_error(text: str, *, sqlstate: str | None = None) -> Classified:
    """Classify the text of a failed connect (psycopg `OperationalError`)."""
    said = server_message(text)
    lowered = text.lower()
    if said:
        for pattern, outcome, state, limit in _SERVER:
            if re.search(pattern, said.lower()):
                return Classified(
                    outcome=outcomes.Postgres(outcome),
                    sqlstate=sqlstate or state,
                    server_message=said,
                    limit=limit,
                )
        if sqlstate in _BY_SQLSTATE:
            return Classified(
                outcome=_BY_SQLSTATE[sqlstate], sqlstate=sqlstate, server_message=said
            )
        return Classified(outcome=outcomes.Postgres.ERROR, sqlstate=sqlstate, server_message=said)
    if sqlstate in _BY_SQLSTATE:
        return Classified(outcome=_BY_SQLSTATE[sqlstate], sqlstate=sqlstate)
    # Without a FATAL prefix, the server's patterns still apply (pgbouncer, older libpq).
    for pattern, outcome, state, limit in _SERVER:
        if re.search(pattern, lowered):
            return Classified(
                outcome=outcomes.Postgres(outcome), sqlstate=sqlstate or state, limit=limit
            )
    for pattern, outcome, code in _CLIENT:
        if re.search(pattern, _without_hba_ssl_note(lowered)):
            return Classified(outcome=outcomes.Postgres(outcome), sqlstate=sqlstate, errno=code)
    return Classified(outcome=outcomes.Postgres.ERROR, sqlstate=sqlstate)


def _without_hba_ssl_note(text: str) -> str:
    return re.sub(r"\b(no encryption|ssl (on|off)|ssl encryption|gssapi encryption)\b", "", text)
