"""`probe tcp HOST:PORT`: can a TCP connection be opened, and if not, how did it fail?

The distinction is the point: a dropped SYN (timeout) means a policy or firewall that drops;
a refusal means nothing listens, a Service without ready endpoints, or a rejecting CNI; an
unreachable host means ICMP from a router or a rejecting firewall (FAILURE-FACTS §3).

Outcomes: open, refused (ECONNREFUSED: RST or ICMP port-unreachable), timeout (no answer within
the limit), unreachable (EHOSTUNREACH, ENETUNREACH, EPERM from a local firewall, ...), reset
(the peer reset or closed the connection within a short settle window right after the
handshake, as a proxy without a backend does), dns-error (the host name did not resolve).

`data`: host, port, address (the IP connected to), addresses (all that the name resolved to),
errno (its name, e.g. "ECONNREFUSED", when failed), gai_error (on dns-error), closed_by
("rst" or "fin", on reset), connect_ms (the handshake alone, when open).
"""

from __future__ import annotations

import errno
import select
import socket
import time
from typing import Any

from paramedic.evidence import probes_file
from paramedic.probes import common, outcomes

SETTLE_MIN_S = 0.02
"""Shortest wait after the handshake for an immediate reset; scaled up with the handshake time."""
SETTLE_MAX_S = 0.25

_UNREACHABLE = {
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
    errno.ENETDOWN,
    errno.EADDRNOTAVAIL,
    errno.EPERM,
    errno.EACCES,
    errno.EAFNOSUPPORT,
}


def probe(host: str, port: int, *, timeout: float) -> probes_file.ProbeResult:
    """Open (and close) one TCP connection to host:port within `timeout` seconds."""
    clock = common.Clock(common.check_timeout(timeout))
    data: dict[str, Any] = {"host": host, "port": port, "address": ""}
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    run = common.Run(kind="tcp", target=target, clock=clock, data=data)

    resolved = common.resolve(host, port, seconds=clock.left())
    if not resolved.addresses:
        data["gai_error"] = resolved.gai_error
        return run.result(outcomes.Tcp.DNS_ERROR, resolved.error)
    data["addresses"] = list(resolved.addresses)

    outcome, detail = outcomes.Tcp.TIMEOUT, f"no answer within {clock.timeout:g} s"
    for address in resolved.addresses:
        data["address"] = address
        outcome, detail = _attempt(address, port, clock, data)
        if outcome in (outcomes.Tcp.OPEN, outcomes.Tcp.TIMEOUT) or clock.left() <= 0:
            break
    return run.result(outcome, detail)


def _attempt(
    address: str, port: int, clock: common.Clock, data: dict[str, Any]
) -> tuple[outcomes.Tcp, str]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    where = f"{address}:{port}" if family == socket.AF_INET else f"[{address}]:{port}"
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(max(clock.left(), 0.001))
        began = time.monotonic()
        try:
            sock.connect((address, port))
        except TimeoutError as exc:
            data["errno"] = common.errno_name(exc.errno) or "ETIMEDOUT"
            why = f"no answer from {where} within {clock.timeout:g} s (dropped?)"
            return outcomes.Tcp.TIMEOUT, why
        except OSError as exc:
            data["errno"] = common.errno_name(exc.errno)
            outcome, detail = _classify(exc, where)
            if outcome == outcomes.Tcp.RESET:  # the RST overtook the end of connect() itself
                data["closed_by"] = "rst"
            return outcome, detail
        data.pop("errno", None)
        connect_s = time.monotonic() - began
        data["connect_ms"] = round(connect_s * 1000.0, 2)
        closed_by = _settle(sock, min(clock.left(), max(SETTLE_MIN_S, 3 * connect_s), SETTLE_MAX_S))
    if closed_by:
        data["closed_by"] = closed_by
        if closed_by == "rst":
            data["errno"] = "ECONNRESET"
        why = f"{where} accepted the connection, then {_CLOSED[closed_by]} at once"
        return outcomes.Tcp.RESET, why
    return outcomes.Tcp.OPEN, f"connected to {where} in {connect_s * 1000.0:.1f} ms"


_CLOSED = {"rst": "reset it", "fin": "closed it"}


def _classify(exc: OSError, where: str) -> tuple[outcomes.Tcp, str]:
    code = exc.errno
    text = exc.strerror or str(exc)
    if code == errno.ECONNREFUSED:
        why = f"{where} refused the connection (nothing listening, or a reject rule)"
        return outcomes.Tcp.REFUSED, why
    if code in (errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE):
        return outcomes.Tcp.RESET, f"{where} reset the connection: {text}"
    if code == errno.ETIMEDOUT:
        return outcomes.Tcp.TIMEOUT, f"{where}: {text}"
    if code in _UNREACHABLE:
        return outcomes.Tcp.UNREACHABLE, f"{where} is unreachable: {text}"
    return outcomes.Tcp.UNREACHABLE, f"{where}: {text}"


def _settle(sock: socket.socket, seconds: float) -> str:
    """ "rst" or "fin" when the peer ends the fresh connection within `seconds`, else ""."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    if not poller.poll(max(0, int(seconds * 1000))):
        return ""
    try:
        first = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (ConnectionResetError, ConnectionAbortedError):
        return "rst"
    except BlockingIOError:
        return ""
    except OSError as exc:
        return "rst" if exc.errno in (errno.ECONNRESET, errno.EPIPE) else ""
    return "" if first else "fin"
