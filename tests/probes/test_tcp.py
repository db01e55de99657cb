"""`probes.tcp` against real sockets on loopback and nftables rules in a network namespace."""

from __future__ import annotations

import socket

import pytest

from paramedic.probes import common, tcp

from . import probefix_netns

BLACK_HOLE_TIMEOUT = 1.0


def test_listening_port_is_open_with_its_address(listener: tuple[str, int]) -> None:
    host, port = listener
    result = tcp.probe(host, port, timeout=2)
    assert (result.kind, result.outcome, result.target) == ("tcp", "open", f"{host}:{port}")
    assert result.data["address"] == "127.0.0.1" and result.data["port"] == port
    assert "errno" not in result.data and result.ok


def test_host_name_is_resolved_before_connecting(listener: tuple[str, int]) -> None:
    result = tcp.probe("localhost", listener[1], timeout=2)
    assert result.outcome == "open"
    assert result.data["host"] == "localhost" and result.data["address"] == "127.0.0.1"


def test_closed_port_is_refused_with_econnrefused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: the kernel answers RST
        result = tcp.probe("127.0.0.1", port, timeout=2)
    assert result.outcome == "refused" and result.data["errno"] == "ECONNREFUSED"


def test_peer_that_resets_right_after_the_handshake_is_reset(resetter: tuple[str, int]) -> None:
    result = tcp.probe(*resetter, timeout=2)
    assert result.outcome == "reset"
    assert result.data["closed_by"] == "rst" and result.data["errno"] == "ECONNRESET"


def test_name_that_does_not_resolve_is_a_dns_error() -> None:
    result = tcp.probe("no-such-host.invalid", 5432, timeout=2)
    assert result.outcome == "dns-error" and result.data["gai_error"]
    assert result.data["address"] == ""


@pytest.mark.root
@pytest.mark.parametrize(
    ("rule", "outcome", "errno"),
    [
        (None, "open", None),
        ("drop", "timeout", "ETIMEDOUT"),
        ("reject with tcp reset", "refused", "ECONNREFUSED"),
        ("reject with icmpx type port-unreachable", "refused", "ECONNREFUSED"),
        ("reject with icmpx type host-unreachable", "unreachable", "EHOSTUNREACH"),
        ("reject with icmp type admin-prohibited", "unreachable", "EHOSTUNREACH"),
        ("reject with icmp type net-unreachable", "unreachable", "ENETUNREACH"),
    ],
)
def test_firewall_rule_in_front_of_postgres_decides_the_outcome(
    firewall: probefix_netns.Netns, rule: str | None, outcome: str, errno: str | None
) -> None:
    firewall.block(rule)
    result = tcp.probe(firewall.address, 5432, timeout=BLACK_HOLE_TIMEOUT)
    assert result.outcome == outcome, result.detail
    assert result.data.get("errno") == errno
    assert result.elapsed_ms < (BLACK_HOLE_TIMEOUT + 0.5) * 1000


@pytest.mark.root
@pytest.mark.parametrize("timeout", [0.3, 1.5])
def test_dropped_syn_returns_within_the_timeout_plus_half_a_second(
    firewall: probefix_netns.Netns, timeout: float
) -> None:
    firewall.block("drop")
    result = tcp.probe(firewall.address, 5432, timeout=timeout)
    assert result.outcome == "timeout"
    assert timeout * 1000 - 50 <= result.elapsed_ms < (timeout + 0.5) * 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("db:5432", ("db", 5432)),
        ("10.96.0.12:5432", ("10.96.0.12", 5432)),
        ("[fd00::1]:5432", ("fd00::1", 5432)),
        ("profile-db.data.svc.cluster.local:5432", ("profile-db.data.svc.cluster.local", 5432)),
    ],
)
def test_host_port_is_split(text: str, expected: tuple[str, int]) -> None:
    assert common.split_host_port(text) == expected


@pytest.mark.parametrize(
    "text", ["db", "db:", ":5432", "db:http", "db:70000", "fd00::1:5432", "[fd00::1"]
)
def test_malformed_host_port_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        common.split_host_port(text)


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_unbounded_timeouts_are_refused(timeout: float) -> None:
    with pytest.raises(ValueError):
        tcp.probe("127.0.0.1", 1, timeout=timeout)


def test_a_bare_ipv6_address_is_told_to_use_brackets_for_its_port() -> None:
    with pytest.raises(ValueError, match=r"\[ADDR\]:PORT"):
        common.split_host_port("::1:1")
