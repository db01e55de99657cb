"""A throwaway PostgreSQL 15 for the probe tests and benchmarks (a real server, never a mock).

PostgreSQL refuses to run as root, so initdb and pg_ctl run as the `postgres` system user
(`runuser -u postgres --`), in a temporary directory it owns; the Unix socket lives there too.
One `initdb` makes a template; each server is a copy of it started with its own settings, so a
test that fills every slot gets a server of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import psycopg

PASSWORDS = {
    "postgres": "super-secret",
    "app": "app-secret",
    "limited": "limited-secret",
    "watcher": "watcher-secret",
    "stranger": "stranger-secret",
    "rejected": "rejected-secret",
}

HBA = """\
local   all  all                    trust
host    all  rejected  0.0.0.0/0    reject
host    all  postgres  0.0.0.0/0    scram-sha-256
host    all  +allowed  0.0.0.0/0    scram-sha-256
"""

SETUP = """
CREATE ROLE allowed NOLOGIN;
CREATE ROLE app LOGIN PASSWORD 'app-secret' IN ROLE allowed;
CREATE ROLE limited LOGIN PASSWORD 'limited-secret' CONNECTION LIMIT 1 IN ROLE allowed;
CREATE ROLE watcher LOGIN PASSWORD 'watcher-secret' IN ROLE allowed, pg_read_all_stats;
CREATE ROLE stranger LOGIN PASSWORD 'stranger-secret';
CREATE ROLE rejected LOGIN PASSWORD 'rejected-secret' IN ROLE allowed;
ALTER ROLE postgres PASSWORD 'super-secret';
CREATE DATABASE appdb OWNER app;
"""


def missing() -> str:
    """Why no server can be started here ("" when it can)."""
    for tool in ("initdb", "pg_ctl", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (PostgreSQL 15 server binaries needed)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no `postgres` system user to run the server as"
    if os.geteuid() != 0:
        return "needs root to run PostgreSQL as the `postgres` user (runuser)"
    return ""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _as_postgres(*argv: str, netns: str = "", timeout: float = 60) -> None:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    subprocess.run(
        [*prefix, "runuser", "-u", "postgres", "--", *argv],
        check=True,
        capture_output=True,
        timeout=timeout,
    )


SHARED = "PARAMEDIC_PG_TEMPLATE"
"""Set by tests/conftest.py for a pytest run: a directory where the first test process to need
PostgreSQL makes the run's one template; the others wait for it and copy it."""


@functools.cache
def template() -> Template:
    """The template of this test process: one initdb for all of its servers (each test module
    that needs PostgreSQL made its own before, ~1.5 s of CPU and seconds of wall each), and in a
    pytest run one for all of its worker processes (`SHARED`); removed when the process exits."""
    made = Template(os.environ.get(SHARED))
    atexit.register(made.remove)
    return made


class Template:
    """An initdb'd data directory with the test roles (made here, or the run's shared one when
    `shared` names its directory), copied for each server under this process's own `root`."""

    def __init__(self, shared: str | None = None) -> None:
        self.root = tempfile.mkdtemp(prefix="paramedic-pg-")
        user = pwd.getpwnam("postgres")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self.data = os.path.join(shared or self.root, "template")
        try:
            if shared is None:
                self._initdb()
            else:
                with open(os.path.join(shared, "lock"), "w") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait while the first makes it
                    if not os.path.exists(os.path.join(shared, "ready")):
                        os.chown(shared, user.pw_uid, user.pw_gid)
                        self._initdb()
                        open(os.path.join(shared, "ready"), "w").close()
        except BaseException:
            self.remove()
            raise

    def _initdb(self) -> None:
        _as_postgres(
            "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        with open(os.path.join(self.data, "pg_hba.conf"), "w", encoding="utf-8") as handle:
            handle.write(HBA)
        server = Server(self, name="template", data=self.data)
        try:
            server.start()
            with server.superuser() as conn:
                for statement in filter(None, (s.strip() for s in SETUP.split(";"))):
                    conn.execute(statement)  # type: ignore[call-overload]
        finally:
            server.stop()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class Server:
    """One running copy of the template: `dsn(user)` connects over TCP with that user's password."""

    def __init__(
        self,
        template: Template,
        *,
        name: str,
        host: str = "127.0.0.1",
        netns: str = "",
        data: str | None = None,
        **settings: Any,
    ) -> None:
        self.template, self.host, self.netns = template, host, netns
        self.data = data or os.path.join(template.root, name)
        self.socket_dir = os.path.join(template.root, f"{name}-sock")
        self.port = free_port() if not netns else 5432
        self.settings = {
            "max_connections": 10,
            "superuser_reserved_connections": 2,
            "fsync": "off",
            "shared_buffers": "16MB",
            **settings,
        }
        self.running = False
        self.holding = 0
        """Sessions open through `held()` right now."""

    def start(self) -> Server:
        if self.data != self.template.data and not os.path.exists(self.data):
            subprocess.run(["cp", "-a", self.template.data, self.data], check=True)
        os.makedirs(self.socket_dir, exist_ok=True)
        user = pwd.getpwnam("postgres")
        os.chown(self.socket_dir, user.pw_uid, user.pw_gid)
        options = " ".join(
            f"-c {k}={v}"
            for k, v in {
                "port": self.port,
                "listen_addresses": self.host,
                "unix_socket_directories": self.socket_dir,
                **self.settings,
            }.items()
        )
        _as_postgres(
            "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.data + ".log",
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
            netns=self.netns,
        )
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                _as_postgres("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", timeout=30)
            self.running = False

    def dsn(
        self, user: str = "app", *, dbname: str = "appdb", password: bool = True, **extra: Any
    ) -> str:
        parts = {"host": self.host, "port": self.port, "user": user, "dbname": dbname, **extra}
        if password:
            parts["password"] = PASSWORDS[user]
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def local(self, user: str = "postgres", dbname: str = "appdb") -> psycopg.Connection[Any]:
        """A connection over the Unix socket (trust), for holding slots and setting things up."""
        return psycopg.connect(
            host=self.socket_dir,
            port=self.port,
            user=user,
            dbname=dbname,
            autocommit=True,
            connect_timeout=5,
        )

    @contextlib.contextmanager
    def superuser(self) -> Iterator[psycopg.Connection[Any]]:
        conn = psycopg.connect(
            host=self.socket_dir,
            port=self.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )
        with conn:
            yield conn

    @contextlib.contextmanager
    def held(
        self, count: int, user: str = "app", *, idle_in_transaction: bool = False
    ) -> Iterator[list[psycopg.Connection[Any]]]:
        """`count` open sessions of `user` (optionally idle in transaction), closed on exit."""
        conns: list[psycopg.Connection[Any]] = []
        before = self.holding
        self.wait_sessions(before)  # earlier probes' backends may still be exiting
        try:
            for i in range(count):
                conn = self._connect_when_a_slot_frees(
                    user=user,
                    application_name=f"holder-{i % 2}",
                    autocommit=not idle_in_transaction,
                )
                conns.append(conn)
                if idle_in_transaction:
                    conn.execute("SELECT 1")
            self.holding = before + count
            yield conns
        finally:
            for conn in conns:
                conn.close()
            self.holding = before
            self.wait_sessions(before)

    def _connect_when_a_slot_frees(self, **params: Any) -> psycopg.Connection[Any]:
        """Connect over the socket; a just-closed session's backend may hold its slot briefly."""
        end = time.monotonic() + 10
        while True:
            try:
                return psycopg.connect(
                    host=self.socket_dir,
                    port=self.port,
                    dbname="appdb",
                    connect_timeout=5,
                    **params,
                )
            except psycopg.OperationalError as exc:
                if "too many" not in str(exc) or time.monotonic() > end:
                    raise
                time.sleep(0.05)

    def sessions(self) -> int:
        """Client backends besides the asker's own."""
        with self.superuser() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                " AND pid <> pg_backend_pid()"
            ).fetchone()
        return int(row[0]) if row else 0

    def wait_sessions(self, expected: int, seconds: float = 10.0) -> None:
        """Wait until the server counts `expected` client backends besides the asker."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with contextlib.suppress(psycopg.OperationalError):
                if self.sessions() == expected:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"PostgreSQL still has sessions other than {expected} after {seconds} s")
