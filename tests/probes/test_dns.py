"""`probes.dns` against real dnsmasq servers: answers, NXDOMAIN, REFUSED, SERVFAIL, silence."""

from __future__ import annotations

import socket

import pytest

from paramedic import errors
from paramedic.probes import dns

from . import probefix_dns


def _probe(server: probefix_dns.Dnsmasq, name: str, **kwargs):  # type: ignore[no-untyped-def]
    return dns.probe(
        name, server=server.host, port=server.port, timeout=kwargs.pop("timeout", 2), **kwargs
    )


@pytest.mark.parametrize(
    ("name", "addresses"),
    [
        ("db.example.test", ["10.1.2.3"]),
        ("db.example.test.", ["10.1.2.3"]),
        ("dual.example.test", ["10.1.2.4", "fd00::4"]),
    ],
)
def test_known_name_resolves_with_its_addresses_and_ttl(
    dns_zone: probefix_dns.Dnsmasq, name: str, addresses: list[str]
) -> None:
    result = _probe(dns_zone, name)
    assert (result.kind, result.outcome) == ("dns", "resolved")
    assert result.data["addresses"] == addresses
    assert result.data["ttl"] == 30 and result.data["rcode"] == "NOERROR"
    assert result.data["server"] == "127.0.0.1" and result.data["server_port"] == dns_zone.port
    assert result.ok


def test_alias_resolves_through_its_cname(dns_zone: probefix_dns.Dnsmasq) -> None:
    result = _probe(dns_zone, "alias.example.test")
    assert result.outcome == "resolved" and result.data["addresses"] == ["10.1.2.3"]
    assert result.data["cnames"] == ["db.example.test."]


@pytest.mark.parametrize(
    ("name", "outcome", "rcode", "nodata"),
    [
        ("missing.example.test", "nxdomain", "NXDOMAIN", False),
        ("txtonly.example.test", "nxdomain", "NOERROR", True),
        ("www.outside.example", "refused", "REFUSED", False),
    ],
)
def test_unresolvable_names_are_classified_by_the_servers_answer(
    dns_zone: probefix_dns.Dnsmasq, name: str, outcome: str, rcode: str, nodata: bool
) -> None:
    result = _probe(dns_zone, name)
    assert (result.outcome, result.data["rcode"], result.data["nodata"]) == (outcome, rcode, nodata)
    assert result.data["addresses"] == [] and not result.ok


def test_validating_forwarder_that_cannot_validate_gives_servfail(
    dns_servfail: probefix_dns.Dnsmasq,
) -> None:
    result = _probe(dns_servfail, "db.example.test")
    assert (result.outcome, result.data["rcode"]) == ("servfail", "SERVFAIL")


@pytest.mark.parametrize("timeout", [0.3, 1.0])
def test_server_that_never_answers_times_out_within_the_limit(
    dns_silent: probefix_dns.Dnsmasq, timeout: float
) -> None:
    result = _probe(dns_silent, "db.example.test", timeout=timeout)
    assert result.outcome == "timeout" and result.data["rcode"] is None
    assert timeout * 1000 - 50 <= result.elapsed_ms < (timeout + 0.5) * 1000


def test_bound_socket_that_never_replies_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
        hole.bind(("127.0.0.1", 0))
        result = dns.probe(
            "db.example.test", server="127.0.0.1", port=hole.getsockname()[1], timeout=0.5
        )
    assert result.outcome == "timeout" and result.elapsed_ms < 1000


def test_nothing_listening_on_the_server_port_is_refused_at_once() -> None:
    port = probefix_dns.free_udp_tcp_port()
    result = dns.probe("db.example.test", server="127.0.0.1", port=port, timeout=2)
    assert result.outcome == "refused" and result.data["rcode"] is None
    assert result.elapsed_ms < 1000


SEARCH = ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local")


@pytest.mark.parametrize(
    ("name", "ndots", "tried", "outcome"),
    [
        # 1 dot < ndots 5: every search suffix first; the second one matches.
        (
            "profile-db.data",
            5,
            ["profile-db.data.shop.svc.cluster.local.", "profile-db.data.svc.cluster.local."],
            "resolved",
        ),
        # Fully qualified with a trailing dot: asked as is, once.
        (
            "profile-db.data.svc.cluster.local.",
            5,
            ["profile-db.data.svc.cluster.local."],
            "resolved",
        ),
        # 4 dots >= ndots 2: the name as is first, and it matches.
        (
            "profile-db.data.svc.cluster.local",
            2,
            ["profile-db.data.svc.cluster.local."],
            "resolved",
        ),
        # Nothing matches: all three suffixes, then the name itself.
        (
            "nosuch.data",
            5,
            [
                "nosuch.data.shop.svc.cluster.local.",
                "nosuch.data.svc.cluster.local.",
                "nosuch.data.cluster.local.",
                "nosuch.data.",
            ],
            "refused",
        ),
    ],
)
def test_search_path_is_expanded_as_a_pod_with_ndots_would(
    dns_zone: probefix_dns.Dnsmasq, name: str, ndots: int, tried: list[str], outcome: str
) -> None:
    result = _probe(dns_zone, name, search=SEARCH, ndots=ndots)
    assert result.data["tried"] == tried
    assert result.outcome == outcome
    if outcome == "resolved":
        assert result.data["addresses"] == ["10.96.0.40"]
        assert result.data["answered_name"] == tried[-1]


def test_failed_search_reports_the_most_telling_answer_for_each_name(
    dns_zone: probefix_dns.Dnsmasq,
) -> None:
    result = _probe(dns_zone, "nosuch", search=("svc.cluster.local",), ndots=5)
    assert result.data["rcodes"] == {"nosuch.svc.cluster.local.": "NXDOMAIN", "nosuch.": "REFUSED"}
    assert result.outcome == "refused"


@pytest.mark.parametrize(
    ("name", "search", "ndots", "expected"),
    [
        ("a", (), 5, ["a."]),
        ("a.", ("x",), 5, ["a."]),
        ("a.b", ("x", "y."), 1, ["a.b.", "a.b.x.", "a.b.y."]),
        ("a.b", ("x",), 2, ["a.b.x.", "a.b."]),
    ],
)
def test_candidates_follow_glibc_res_search_order(
    name: str, search: tuple[str, ...], ndots: int, expected: list[str]
) -> None:
    assert dns.candidates(name, search, ndots) == expected


def test_resolv_conf_gives_servers_search_and_ndots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# pod\nnameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local"
        " cluster.local\noptions ndots:5 timeout:2\n"
    )
    parsed = dns.read_resolv_conf(str(conf))
    assert parsed.nameservers == ("10.96.0.10",)
    assert parsed.search == ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local")
    assert parsed.ndots == 5


def test_server_given_as_a_name_is_an_input_error() -> None:
    with pytest.raises(errors.InputError):
        dns.probe("db.example.test", server="dns.google", timeout=1)


def _udp_and_tcp_on_one_port() -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same free loopback port: the port the kernel gives
    the UDP socket may be taken for TCP by another process, so try another until both bind."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind(("127.0.0.1", 0))
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        return udp, tcp
    raise AssertionError("no loopback port free for both UDP and TCP in 50 tries")


def test_a_truncated_answer_is_retried_over_tcp_only_in_the_time_that_is_left() -> None:
    import threading
    import time

    from dns import flags, message  # dnspython: `dns` here is paramedic's probe

    udp, tcp = _udp_and_tcp_on_one_port()
    with udp, tcp:
        port = udp.getsockname()[1]
        tcp.listen()  # accepts, never answers

        def answer_late_and_truncated() -> None:
            wire, client = udp.recvfrom(512)
            time.sleep(0.8)
            reply = message.make_response(message.from_wire(wire))
            reply.flags |= flags.TC
            udp.sendto(reply.to_wire(), client)

        server = threading.Thread(target=answer_late_and_truncated, daemon=True)
        server.start()
        result = dns.probe("db.example.test", server="127.0.0.1", port=port, timeout=1.0)
        server.join(timeout=2)
    assert result.outcome == "timeout"
    assert result.elapsed_ms < 1500  # TCP given a fresh 1 s would end at ~1.8 s
