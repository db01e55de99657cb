"""Real services for the probe tests, started once per session and always cleaned up.

PostgreSQL 15 (as the `postgres` user), dnsmasq, and a network namespace with nftables. A
fixture whose component is missing skips its tests with the reason (CI installs everything).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from . import probefix_dns, probefix_netns, probefix_pg


def _need(reason: str) -> None:
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_template() -> probefix_pg.Template:
    _need(probefix_pg.missing())
    return probefix_pg.template()


@pytest.fixture(scope="session")
def pg_shared(pg_template: probefix_pg.Template) -> Iterator[probefix_pg.Server]:
    server = probefix_pg.Server(pg_template, name="shared")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def pg(pg_shared: probefix_pg.Server) -> probefix_pg.Server:
    """The shared server: max_connections 10, superuser_reserved 2 (8 usable), no TLS; quiet
    (the backends of earlier tests' connections have exited)."""
    pg_shared.wait_sessions(0)
    return pg_shared


@pytest.fixture(scope="session")
def netns() -> Iterator[probefix_netns.Netns]:
    _need(probefix_netns.missing())
    ns = probefix_netns.Netns()
    try:
        yield ns
    finally:
        ns.remove()


@pytest.fixture(scope="session")
def netns_pg(
    netns: probefix_netns.Netns, pg_template: probefix_pg.Template
) -> Iterator[probefix_pg.Server]:
    """PostgreSQL listening on 5432 inside the namespace, behind its nftables rules."""
    server = probefix_pg.Server(pg_template, name="netns", host=netns.address, netns=netns.name)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def firewall(
    netns: probefix_netns.Netns, netns_pg: probefix_pg.Server
) -> Iterator[probefix_netns.Netns]:
    """The namespace with its rules reset to "let everything through" after the test."""
    netns.block(None)
    yield netns
    netns.block(None)


@pytest.fixture(scope="session")
def dns_zone() -> Iterator[probefix_dns.Dnsmasq]:
    _need(probefix_dns.missing())
    server = probefix_dns.zone()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dns_servfail(dns_zone: probefix_dns.Dnsmasq) -> Iterator[probefix_dns.Dnsmasq]:
    server = probefix_dns.validating(dns_zone)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dns_silent() -> Iterator[probefix_dns.Dnsmasq]:
    _need(probefix_dns.missing())
    server = probefix_dns.silent()
    yield server
    server.stop()


@pytest.fixture
def listener() -> Iterator[tuple[str, int]]:
    """A real TCP server on loopback that accepts and keeps connections open."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()


@pytest.fixture
def resetter() -> Iterator[tuple[str, int]]:
    """A TCP server on loopback that accepts each connection and resets it at once (SO_LINGER 0)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()
    finally:
        stop.set()
        thread.join(2)
        server.close()


@pytest.fixture(scope="session")
def pg_slots_server(pg_template: probefix_pg.Template) -> Iterator[probefix_pg.Server]:
    server = probefix_pg.Server(pg_template, name="slots", max_connections=6)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def pg_slots(pg_slots_server: probefix_pg.Server) -> probefix_pg.Server:
    """A quiet server of its own for filling every slot: max_connections 6, superuser_reserved 2."""
    pg_slots_server.wait_sessions(0)
    return pg_slots_server
