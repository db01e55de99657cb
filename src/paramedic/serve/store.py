"""The incident store: one SQL schema (schema.py) on SQLite or PostgreSQL, migrated by Alembic.

`Store.open(url)` connects (`sqlite:///PATH`, or `postgresql://...` through psycopg 3) and
brings the schema to the newest version; a worker process `connect`s to the same URL to store
the diagnosis it made. Every method is one short transaction, so several
replicas can share a PostgreSQL store: deduplication by fingerprint is a unique index, and a
diagnosis is `claim`ed atomically, so each incident runs in one place at a time.

Crash safety: an incident is written (phase `queued`) before its diagnosis is queued in memory;
a worker `claim`s it (phase `running`, with a lease) before it starts. After a crash,
`recoverable()` hands back every queued row and every running row whose lease has passed, and
marks failed, with why, a row that has been cut off `MAX_ATTEMPTS` times. Nothing is dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from paramedic import errors
from paramedic.serve import firing, records, schema

MAX_ATTEMPTS = 3
"""A diagnosis cut off (server killed) this many times is marked failed instead of retried."""

_T = schema.incidents


def engine_url(url: str) -> str:
    """The SQLAlchemy URL of a --store URL: PostgreSQL through psycopg 3, SQLite as given."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("sqlite://", "postgresql+psycopg://")):
        return url
    raise errors.InputError(
        f"--store {url.split('://')[0]}://...: use sqlite:///PATH or postgresql://"
    )


class Store:
    """Incidents in a SQL database; every method is one transaction."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.engine, self.url = engine, url
        """`url` is the --store URL, which the worker processes connect to (connect)."""

    @classmethod
    def connect(cls, url: str, *, timeout: float = 10.0) -> Store:
        """The store at `url`, as it is (a worker process's: the server has migrated it)."""
        target = engine_url(url)
        if target.startswith("sqlite"):
            if target.rstrip("/") in ("sqlite:", "sqlite:///:memory:"):
                raise errors.InputError(
                    "--store: an in-memory SQLite store is not shared with the worker"
                    " processes; give sqlite:///PATH"
                )
            engine = sa.create_engine(
                target, connect_args={"timeout": timeout, "check_same_thread": False}
            )
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(
                target, pool_pre_ping=True, connect_args={"connect_timeout": int(max(2, timeout))}
            )
        return cls(engine, url)

    @classmethod
    def open(cls, url: str, *, timeout: float = 10.0) -> Store:
        """Connect to `url` and migrate it to the newest schema; InputError when it cannot."""
        store = cls.connect(url, timeout=timeout)
        try:
            store.migrate()
        except sa_exc.SQLAlchemyError as exc:
            store.engine.dispose()
            raise errors.InputError(f"--store: cannot open the store: {first_line(exc)}") from exc
        return store

    def migrate(self) -> None:
        from alembic import command, config

        cfg = config.Config()
        cfg.set_main_option(
            "script_location", str(resources.files("paramedic.serve") / "migrations")
        )
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> str:
        """'' when the store answers, else one line saying why not (for /readyz)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(sa.func.count()).select_from(_T).where(_T.c.id < 0))
        except sa_exc.SQLAlchemyError as exc:
            return first_line(exc)
        return ""

    def transaction(self) -> contextlib.AbstractContextManager[sa.Connection]:
        """One transaction (committed when the block ends) for the functions of firing.py."""
        return self.engine.begin()

    def add(
        self,
        incident: dict[str, Any],
        *,
        alert: dict[str, Any] | None = None,
        fingerprint: str | None = None,
    ) -> tuple[int, bool]:
        """firing.add in a transaction of its own: (id, created)."""
        with self.engine.begin() as conn:
            return firing.add(conn, incident, alert=alert, fingerprint=fingerprint)

    def resolve(self, fingerprint: str) -> int | None:
        """firing.resolve in a transaction of its own: the closed incident's id, or None."""
        with self.engine.begin() as conn:
            return firing.resolve(conn, fingerprint)

    def claim(self, incident_id: int, *, lease: float) -> records.Record | None:
        """Take a queued (or abandoned running) incident for diagnosis; None when someone else
        has it or it is done."""
        stamp = records.now()
        with self.engine.begin() as conn:
            taken = conn.execute(
                sa.update(_T)
                .where(
                    _T.c.id == incident_id,
                    sa.or_(
                        _T.c.phase == schema.QUEUED,
                        sa.and_(_T.c.phase == schema.RUNNING, _T.c.lease_until < stamp),
                    ),
                )
                .values(
                    phase=schema.RUNNING,
                    attempts=_T.c.attempts + 1,
                    lease_until=stamp + dt.timedelta(seconds=lease),
                    updated_at=stamp,
                )
            ).rowcount
        return self.get(incident_id) if taken else None

    def finish(
        self,
        incident_id: int,
        *,
        diagnosis: dict[str, Any],
        report: str,
        top_cause: str | None,
        bundle: bytes,
        attempt: int | None = None,
    ) -> bool:
        """Store a diagnosis (phase done). With `attempt`, only while that claim still holds
        (running, not re-claimed since): a diagnosis that outlived its claim is dropped, and
        the answer is False."""
        held = _claimed(attempt) if attempt is not None else ()
        document = json.dumps(diagnosis)  # before the transaction: SQLite's write lock is short
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(_T)
                .where(_T.c.id == incident_id, *held)
                .values(
                    phase=schema.DONE,
                    diagnosis=document,
                    report=report,
                    top_cause=top_cause,
                    error=None,
                    lease_until=None,
                    updated_at=records.now(),
                )
            ).rowcount
            if not changed:
                return False
            conn.execute(
                sa.delete(schema.bundles).where(schema.bundles.c.incident_id == incident_id)
            )
            conn.execute(sa.insert(schema.bundles).values(incident_id=incident_id, data=bundle))
        return True

    def fail(self, incident_id: int, error: str, attempt: int | None = None) -> bool:
        """The diagnosis could not be made: state failed (unless the alert already resolved).
        With `attempt`, only while that claim holds (as `finish`); False when it did not."""
        state = sa.case((_T.c.state == schema.CLOSED, schema.CLOSED), else_=schema.FAILED)
        held = _claimed(attempt) if attempt is not None else ()
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(_T)
                .where(_T.c.id == incident_id, *held)
                .values(
                    phase=schema.DONE,
                    state=state,
                    error=first_line(error),
                    lease_until=None,
                    updated_at=records.now(),
                )
            ).rowcount
        return bool(changed)

    def recoverable(self) -> list[int]:
        """Incidents to (re)queue: queued ones, and running ones whose lease has passed. Those
        cut off MAX_ATTEMPTS times are marked failed instead, with why."""
        stamp = records.now()
        abandoned = sa.and_(_T.c.phase == schema.RUNNING, _T.c.lease_until < stamp)
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(_T)
                .where(abandoned, _T.c.attempts >= MAX_ATTEMPTS)
                .values(
                    phase=schema.DONE,
                    state=sa.case((_T.c.state == schema.OPEN, schema.FAILED), else_=_T.c.state),
                    error=f"the diagnosis was cut off {MAX_ATTEMPTS} times (server stopped"
                    " during it); not retried again",
                    lease_until=None,
                    updated_at=stamp,
                )
            )
            rows = conn.execute(
                sa.select(_T.c.id)
                .where(sa.or_(_T.c.phase == schema.QUEUED, abandoned))
                .order_by(_T.c.id)
            ).scalars()
            return [int(r) for r in rows]

    def get(self, incident_id: int) -> records.Record | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_T).where(_T.c.id == incident_id)).first()
        return records.from_row(row) if row is not None else None

    def list(self, *, state: str | None = None, limit: int = 500) -> list[records.Record]:
        """Newest first, without diagnosis and report (listing stays cheap)."""
        light = [c for c in _T.c if c.name not in ("diagnosis", "report")]
        query = sa.select(*light).order_by(_T.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(_T.c.state == state)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [records.light(row) for row in rows]

    def bundle(self, incident_id: int) -> bytes | None:
        with self.engine.connect() as conn:
            data = conn.execute(
                sa.select(schema.bundles.c.data).where(schema.bundles.c.incident_id == incident_id)
            ).scalar()
        return bytes(data) if data is not None else None

    def counts(self) -> dict[str, int]:
        """How many incidents are in each state (every state present, zero when none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_T.c.state, sa.func.count()).group_by(_T.c.state)).all()
        found = {str(state): int(n) for state, n in rows}
        return {state: found.get(state, 0) for state in schema.STATES}

    def phases(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_T.c.phase, sa.func.count()).group_by(_T.c.phase)).all()
        return {str(phase): int(n) for phase, n in rows}


def _claimed(attempt: int) -> tuple[sa.ColumnElement[bool], ...]:
    """The row is still running under the claim that made `attempt`."""
    return (_T.c.phase == schema.RUNNING, _T.c.attempts == attempt)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def first_line(problem: object) -> str:
    """The first line of an error (a driver's own message rather than SQLAlchemy's wrapper)."""
    text = str(getattr(problem, "orig", None) or problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__
