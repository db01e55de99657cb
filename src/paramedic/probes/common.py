"""What every probe shares: the clock, the result it builds, bounded name resolution, errno names.

Name resolution goes through `socket.getaddrinfo`, as every client (libpq, curl, the JVM) does,
so /etc/hosts, nsswitch and the pod's resolv.conf search path apply exactly as they do to the
application. getaddrinfo cannot be interrupted, so it runs under `bounded.call`.
"""

from __future__ import annotations

import dataclasses
import datetime
import errno
import ipaddress
import socket
import time
from typing import Any

from paramedic.evidence import probes_file
from paramedic.probes import bounded


def now_iso() -> str:
    """The current UTC time as "2026-11-26T04:00:00Z" (the `at` of a ProbeResult)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass(frozen=True, slots=True)
class Clock:
    """A probe's own deadline: `left()` seconds remain, `elapsed_ms()` have passed."""

    timeout: float
    started: float = dataclasses.field(default_factory=time.monotonic)

    def left(self) -> float:
        return max(0.0, self.started + self.timeout - time.monotonic())

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One probe in progress: what it measures and since when; `data` fills in as it goes."""

    kind: str
    target: str
    clock: Clock
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    at: str = dataclasses.field(default_factory=now_iso)

    def result(self, outcome: str, detail: str) -> probes_file.ProbeResult:
        """The ProbeResult of this run, timed now."""
        return probes_file.ProbeResult(
            kind=self.kind,
            target=self.target,
            outcome=outcome,
            elapsed_ms=self.clock.elapsed_ms(),
            detail=detail,
            data=self.data,
            at=self.at,
        )


def check_timeout(timeout: float) -> float:
    """`timeout` as a float, refusing what would mean "wait forever"."""
    value = float(timeout)
    if not value > 0 or value == float("inf"):
        raise ValueError(f"a probe timeout must be a finite number of seconds > 0, got {timeout!r}")
    return value


def errno_name(code: int | None) -> str:
    """ "ECONNREFUSED" for 111; "" when unknown."""
    if code is None:
        return ""
    return errno.errorcode.get(code, f"E{code}")


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """Addresses of a host name, or why there are none (`error`: a gai text or "timed out")."""

    addresses: tuple[str, ...] = ()
    error: str = ""
    gai_error: str = ""


_GAI_NAMES = {
    getattr(socket, name): name
    for name in (
        "EAI_NONAME",
        "EAI_AGAIN",
        "EAI_FAIL",
        "EAI_NODATA",
        "EAI_ADDRFAMILY",
        "EAI_SERVICE",
        "EAI_FAMILY",
        "EAI_SYSTEM",
    )
    if hasattr(socket, name)
}


def resolve(host: str, port: int, *, seconds: float) -> Resolved:
    """The TCP addresses of `host` in getaddrinfo order (IPv4/IPv6 as the system prefers)."""
    bare = host.strip("[]")
    if is_ip(bare):
        return Resolved(addresses=(bare,))

    def lookup() -> list[tuple[object, ...]]:
        found = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        return list(found)

    outcome = bounded.call(lookup, seconds=seconds, name="paramedic-getaddrinfo")
    if not outcome.finished:
        return Resolved(
            error=f"resolving {bare!r} took longer than {seconds:.1f} s", gai_error="timeout"
        )
    if isinstance(outcome.error, socket.gaierror):
        code = outcome.error.errno
        return Resolved(
            error=f"could not resolve {bare!r}: {outcome.error.strerror}",
            gai_error=_GAI_NAMES.get(code, str(code)),
        )
    if outcome.error is not None:
        return Resolved(error=f"could not resolve {bare!r}: {outcome.error}", gai_error="error")
    seen: list[str] = []
    for info in outcome.value or ():
        sockaddr = info[4]
        address = str(sockaddr[0]) if isinstance(sockaddr, tuple) else str(sockaddr)
        if address not in seen:
            seen.append(address)
    if not seen:
        return Resolved(error=f"{bare!r} has no addresses", gai_error="EAI_NODATA")
    return Resolved(addresses=tuple(seen))


def split_host_port(text: str, *, default_port: int | None = None) -> tuple[str, int]:
    """("db", 5432) from "db:5432"; IPv6 as "[::1]:5432". ValueError when malformed."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError(f"{text!r}: missing ']' after an IPv6 address")
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise ValueError(f"{text!r}: expected ':PORT' after ']'")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    elif text.count(":") > 1 and is_ip(text):
        host, port_text = text, ""
    else:
        host, port_text = text, ""
        if ":" in text:
            raise ValueError(f"{text!r}: write an IPv6 address with a port as [ADDR]:PORT")
    if not host:
        raise ValueError(f"{text!r}: missing host")
    if not port_text:
        if default_port is None:
            if ":" in host:  # '::1:1' is itself a valid IPv6 address
                raise ValueError(f"{text!r}: missing port; write an IPv6 address as [ADDR]:PORT")
            raise ValueError(f"{text!r}: missing ':PORT'")
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r}: port must be a number from 1 to 65535")
    return host, int(port_text)
