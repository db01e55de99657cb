"""`probe postgres DSN`: connect as the application would, then read how full the server is.

On success the probe reads the connection limits and who holds the slots (pg_stat_activity,
client backends only: background workers and walsenders do not use max_connections slots) and
computes saturation against the slots an unprivileged application can use (FAILURE-FACTS §1):

    usable_slots = max_connections - superuser_reserved_connections - reserved_connections
    saturation   = in_use / usable_slots      (in_use: client backends other than the probe's own)

On failure the error text is classified (`classify`), since psycopg gives no SQLSTATE for a
failed connect. The host name is resolved first under the probe's deadline (dns-error), and the
whole connect-and-query runs under `bounded.call`, because psycopg never waits less than 2 s.

The password (from the DSN, the `password` argument, PGPASSWORD or a password file that libpq
reads) is never part of the result: `target` is rebuilt from the DSN without it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import psycopg
import psycopg.conninfo
import psycopg.errors

from paramedic import errors
from paramedic.evidence import probes_file
from paramedic.probes import bounded, classify, common, outcomes, pg_activity

APPLICATION_NAME = "paramedic-probe"


def parse(dsn_or_params: str | Mapping[str, Any]) -> dict[str, str]:
    """Connection parameters from a DSN, a postgresql:// URI or a mapping (InputError if bad)."""
    if isinstance(dsn_or_params, Mapping):
        params: Mapping[str, Any] = dsn_or_params
    else:
        _refuse_ambiguous_userinfo(str(dsn_or_params))
        try:
            params = psycopg.conninfo.conninfo_to_dict(str(dsn_or_params))
        except psycopg.Error as exc:
            # libpq's message may quote part of the DSN, password included: never show it.
            raise errors.InputError(
                "the DSN is not a valid PostgreSQL connection string "
                "(key=value pairs or a postgresql:// URI)"
            ) from exc
    result = {str(k): str(v) for k, v in params.items() if v is not None}
    port = result.get("port", "")
    if port and not all(p.strip().isdigit() for p in port.split(",")):
        # Never quote it: in a misread URI the "port" is a piece of the password.
        raise errors.InputError("the DSN's port is not a number")
    return result


def _refuse_ambiguous_userinfo(dsn: str) -> None:
    """A postgresql:// URI whose user:password part holds an unencoded '/', '?', '#' or '@'
    (common in generated passwords) is read by libpq as host, port and database made of pieces
    of the password: refuse it, naming no piece."""
    scheme, sep, rest = dsn.strip().partition("://")
    if not sep or scheme.lower() not in ("postgres", "postgresql"):
        return
    at = rest.find("@")
    if at >= 0 and (rest.rfind("@") != at or any(c in rest[:at] for c in "/?#")):
        raise errors.InputError(
            "the DSN's user:password part holds a '/', '?', '#' or '@' that is not"
            " percent-encoded (write them as %2F, %3F, %23, %40); it is not shown"
        )


def describe(params: Mapping[str, str]) -> dict[str, Any]:
    """Where the connection goes and as whom, with libpq's defaults and environment applied."""
    host = params.get("host") or os.environ.get("PGHOST") or "/var/run/postgresql"
    port_text = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or _os_user()
    database = params.get("dbname") or os.environ.get("PGDATABASE") or user
    try:
        port: int | str = int(port_text)
    except ValueError:
        port = port_text
    return {"host": host, "port": port, "user": user, "database": database}


def redacted_target(params: Mapping[str, str]) -> str:
    """postgresql://user@host:port/dbname (never the password; sslmode kept when set)."""
    where = describe(params)
    host = str(where["host"])
    shown = f"[{host}]" if common.is_ip(host) and ":" in host else host
    suffix = f"?sslmode={params['sslmode']}" if params.get("sslmode") else ""
    if host.startswith("/"):
        return f"postgresql://{where['user']}@/{where['database']}?host={host}&port={where['port']}"
    return f"postgresql://{where['user']}@{shown}:{where['port']}/{where['database']}{suffix}"


def password_source(params: Mapping[str, str], password: str | None) -> str:
    """Where libpq will take the password from: argument, dsn, PGPASSWORD, passfile or none."""
    if password is not None:
        return "argument"
    if params.get("password"):
        return "dsn"
    if os.environ.get("PGPASSWORD"):
        return "PGPASSWORD"
    passfile = (
        params.get("passfile") or os.environ.get("PGPASSFILE") or os.path.expanduser("~/.pgpass")
    )
    return "passfile" if os.path.isfile(passfile) else "none"


def probe(
    dsn_or_params: str | Mapping[str, Any], *, timeout: float, password: str | None = None
) -> probes_file.ProbeResult:
    """Connect within `timeout` seconds; on success report limits, usage and saturation."""
    clock = common.Clock(common.check_timeout(timeout))
    params = parse(dsn_or_params)
    data: dict[str, Any] = {**describe(params), "password_from": password_source(params, password)}
    run = common.Run(kind="postgres", target=redacted_target(params), clock=clock, data=data)

    host = str(data["host"])
    if params.get("hostaddr"):
        data["address"] = params["hostaddr"]
    elif "," not in host and not host.startswith("/"):
        port = data["port"] if isinstance(data["port"], int) else 5432
        resolved = common.resolve(host, port, seconds=clock.left())
        if not resolved.addresses:
            data["gai_error"] = resolved.gai_error
            return run.result(outcomes.Postgres.DNS_ERROR, resolved.error)
        data["address"] = resolved.addresses[0]
        params = {**params, "hostaddr": resolved.addresses[0]}
    if password is not None:
        params = {**params, "password": password}
    params = _bounded_params(params, clock.left())

    left = clock.left()
    outcome = bounded.call(
        lambda: _connect_and_read(params, left), seconds=left + 0.05, name="paramedic-postgres"
    )
    if not outcome.finished:
        data["errno"] = "ETIMEDOUT"
        return run.result(
            outcomes.Postgres.TIMEOUT, f"no answer within {clock.timeout:g} s (dropped?)"
        )
    if outcome.value is None:  # only a bug in this module gets here
        why = f"{type(outcome.error).__name__}: {outcome.error}"
        return run.result(outcomes.Postgres.ERROR, f"probe failed: {why}")
    stage, value = outcome.value
    if stage != "ok":
        return run.result(*_failure(stage, value, data, clock))
    data.update(value)
    return run.result(outcomes.Postgres.OK, pg_activity.summary(data))


def _bounded_params(params: Mapping[str, str], seconds: float) -> dict[str, str]:
    """Explicit, finite limits for libpq: unset connect_timeout would mean 130 s in psycopg."""
    millis = max(100, int(seconds * 1000))
    return {
        **params,
        "connect_timeout": str(max(2, math.ceil(seconds))),
        # Only ends a call we already walked away from; must not beat our own deadline,
        # or a dropped SYN reads as "server closed the connection unexpectedly".
        "tcp_user_timeout": str(millis + 1000),
        "application_name": params.get("application_name") or APPLICATION_NAME,
    }


def _connect_and_read(params: Mapping[str, str], seconds: float) -> tuple[str, Any]:
    """("ok", data), ("connect", exception) or ("read", exception): never raises psycopg errors."""
    try:
        conn = psycopg.connect(**params, autocommit=True)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        return "connect", exc
    try:
        with conn:
            return "ok", pg_activity.read(conn, statement_timeout_ms=max(100, int(seconds * 1000)))
    except psycopg.Error as exc:
        return "read", exc


def _failure(
    stage: str, exc: BaseException, data: dict[str, Any], clock: common.Clock
) -> tuple[outcomes.Postgres, str]:
    """(outcome, detail) for a failed connect or a failed read after connecting."""
    text = str(exc)
    if stage == "read":
        state = getattr(exc, "sqlstate", None)
        if state:
            data["sqlstate"] = state
        why = _first_line(text)
        return outcomes.Postgres.ERROR, f"connected, but reading the server's state failed: {why}"
    if isinstance(exc, psycopg.errors.ConnectionTimeout):
        data["errno"] = "ETIMEDOUT"
        return outcomes.Postgres.TIMEOUT, f"connect timed out ({clock.timeout:g} s limit)"
    found = classify.connect_error(text, sqlstate=getattr(exc, "sqlstate", None))
    for key in ("sqlstate", "errno", "limit"):
        value = getattr(found, key)
        if value:
            data[key] = value
    data["server_message"] = found.server_message
    pgconn = getattr(exc, "pgconn", None)
    if pgconn is not None:
        data["password_needed"] = bool(pgconn.needs_password)
        data["password_used"] = bool(pgconn.used_password)
    return found.outcome, found.server_message or _first_line(text)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def _os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("USER", "")
