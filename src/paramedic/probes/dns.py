"""`probe dns NAME`: ask one DNS server directly and classify its answer.

The server is asked directly (dnspython, one UDP query per record type, TCP on truncation), not
through the system resolver, so the answer code survives: a stub resolver folds SERVFAIL,
REFUSED and timeouts into one "temporary failure". With `search` the name is expanded the way
a pod's resolver does with `options ndots:N` (glibc res_search): a name with fewer than `ndots`
dots is tried with every search suffix first, then as is; a name ending in "." only as is.

Outcomes: resolved (an A or AAAA record came back), nxdomain (NXDOMAIN, or the name exists with
no address record: NODATA, which a client sees the same way), servfail (SERVFAIL, or another
error rcode such as FORMERR/NOTIMP), refused (REFUSED, or ICMP port-unreachable: nothing
listens on the server's port), timeout (no answer within the limit).

`data`: name, server, server_port, addresses, ttl (smallest TTL of the address records, or
None), rcode (of the answer that decided the outcome, None on timeout), tried (every name
asked, in order), rcodes ({tried name: rcode or "timeout"}), answered_name (the name that
resolved), cnames (the alias chain), nodata (true when the name exists without addresses),
queries (how many were sent).
"""

from __future__ import annotations

import dataclasses
import errno
import socket
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype

from paramedic import errors
from paramedic.evidence import probes_file
from paramedic.probes import common, outcomes

RESOLV_CONF = "/etc/resolv.conf"
_BY_RCODE = {dns.rcode.NXDOMAIN: outcomes.Dns.NXDOMAIN, dns.rcode.REFUSED: outcomes.Dns.REFUSED}
_RANK = {
    outcomes.Dns.TIMEOUT: 4,
    outcomes.Dns.SERVFAIL: 3,
    outcomes.Dns.REFUSED: 2,
    outcomes.Dns.NXDOMAIN: 1,
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResolvConf:
    """The parts of resolv.conf a pod's resolver uses."""

    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = 1


def read_resolv_conf(path: str = RESOLV_CONF) -> ResolvConf:
    """nameserver, search/domain and `options ndots:N` from a resolv.conf file."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise errors.InputError(f"cannot read {path}: {exc.strerror}") from exc
    servers: list[str] = []
    search: tuple[str, ...] = ()
    ndots = 1
    for line in lines:
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1])
        elif words and words[0] in ("search", "domain"):
            search = tuple(words[1:])
        elif words and words[0] == "options":
            for option in words[1:]:
                if option.startswith("ndots:") and option[6:].isdigit():
                    ndots = min(int(option[6:]), 15)
    return ResolvConf(nameservers=tuple(servers), search=search, ndots=ndots)


def candidates(name: str, search: tuple[str, ...] | list[str], ndots: int) -> list[str]:
    """Fully qualified names to ask, in the order a glibc stub resolver asks them."""
    if name.endswith("."):
        return [name]
    absolute = name + "."
    expanded = [f"{name}.{suffix.strip('.')}." for suffix in search if suffix.strip(".")]
    if not expanded:
        return [absolute]
    if name.count(".") >= ndots:
        return [absolute, *expanded]
    return [*expanded, absolute]


def probe(
    name: str,
    *,
    server: str | None = None,
    port: int = 53,
    timeout: float,
    search: tuple[str, ...] | list[str] = (),
    ndots: int = 5,
) -> probes_file.ProbeResult:
    """Resolve `name` (A and AAAA) against `server` (default: resolv.conf's first nameserver)."""
    clock = common.Clock(common.check_timeout(timeout))
    if server is None:
        servers = read_resolv_conf().nameservers
        if not servers:
            raise errors.InputError(f"no nameserver in {RESOLV_CONF}: give a server")
        server = servers[0]
    server = server.strip("[]")
    if not common.is_ip(server):
        raise errors.InputError(f"DNS server must be an IP address, got {server!r}")
    tried = candidates(name.strip(), search, ndots)
    for fqdn in tried:
        _check_name(fqdn, name)
    data: dict[str, Any] = {
        "name": name,
        "server": server,
        "server_port": port,
        "addresses": [],
        "ttl": None,
        "rcode": None,
        "tried": [],
        "rcodes": {},
        "queries": 0,
    }
    where = server if port == 53 else f"{server}:{port}"
    run = common.Run(kind="dns", target=f"{name} @{where}", clock=clock, data=data)
    outcome, detail, decided = outcomes.Dns.NXDOMAIN, "", -1
    for fqdn in tried:
        data["tried"].append(fqdn)
        answer = _ask(fqdn, server, port, clock, data)
        data["rcodes"][fqdn] = answer["rcode"] or "timeout"
        if answer["outcome"] == outcomes.Dns.RESOLVED:
            data.update({k: answer[k] for k in ("addresses", "ttl", "rcode", "cnames")})
            data["answered_name"] = fqdn
            data["nodata"] = False
            shown = ", ".join(answer["addresses"])
            return run.result(outcomes.Dns.RESOLVED, f"{fqdn} -> {shown} (ttl {answer['ttl']})")
        rank = _RANK[answer["outcome"]]
        if rank > decided:
            outcome, detail, decided = answer["outcome"], answer["detail"], rank
            data["rcode"] = answer["rcode"]
            data["nodata"] = answer.get("nodata", False)
        if answer["outcome"] == outcomes.Dns.TIMEOUT or clock.left() <= 0:
            break
    if len(data["tried"]) > 1:
        detail = f"{detail} (tried {len(data['tried'])} of {len(tried)} names)"
    return run.result(outcome, detail)


def _check_name(fqdn: str, name: str) -> None:
    """InputError naming `name` when `fqdn` cannot be put in a query: a label over 63 bytes, an
    empty label, a name over 255 bytes, or characters IDNA does not allow."""
    try:
        dns.name.from_text(fqdn)
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        why = str(exc).rstrip(".") or type(exc).__name__
        raise errors.InputError(f"{name!r} is not a valid DNS name ({why})") from exc


def _ask(
    fqdn: str, server: str, port: int, clock: common.Clock, data: dict[str, Any]
) -> dict[str, Any]:
    """One name: A, then AAAA; resolved when either has addresses."""
    addresses: list[str] = []
    ttls: list[int] = []
    cnames: list[str] = []
    first: dict[str, Any] | None = None
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        if rdtype == dns.rdatatype.AAAA and (
            first is None or first["outcome"] != outcomes.Dns.RESOLVED
        ):
            break  # NXDOMAIN, SERVFAIL, REFUSED or silence for A: AAAA would say the same
        if clock.left() <= 0:
            break
        reply = _query(fqdn, rdtype, server, port, clock.left())
        data["queries"] += 1
        if first is None:
            first = reply
        if reply.get("message") is None:
            continue
        message = reply["message"]
        for rrset in message.answer:
            if rrset.rdtype == dns.rdatatype.CNAME:
                cnames.extend(str(r.target) for r in rrset if str(r.target) not in cnames)
            elif rrset.rdtype == rdtype:
                addresses.extend(r.address for r in rrset if r.address not in addresses)
                ttls.append(rrset.ttl)
    if first is None:
        return {"outcome": outcomes.Dns.TIMEOUT, "rcode": None, "detail": "no time left to ask"}
    if addresses:
        return {
            "outcome": outcomes.Dns.RESOLVED,
            "rcode": first["rcode"],
            "addresses": addresses,
            "ttl": min(ttls),
            "cnames": cnames,
            "detail": "",
        }
    if first["outcome"] == outcomes.Dns.RESOLVED:
        return {
            "outcome": outcomes.Dns.NXDOMAIN,
            "rcode": first["rcode"],
            "nodata": True,
            "detail": f"{fqdn} exists but has no A or AAAA record (NODATA)",
        }
    return first


def _query(
    fqdn: str, rdtype: dns.rdatatype.RdataType, server: str, port: int, seconds: float
) -> dict[str, Any]:
    query = dns.message.make_query(fqdn, rdtype, want_dnssec=False)
    query.flags |= dns.flags.RD
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    where = server if port == 53 else f"{server}:{port}"
    clock = common.Clock(seconds)
    try:
        try:
            # A connected socket, so ICMP port-unreachable surfaces as ECONNREFUSED at once.
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                sock.connect((server, port))
                message = dns.query.udp(
                    query, server, timeout=seconds, port=port, raise_on_truncation=True, sock=sock
                )
        except dns.message.Truncated:
            # TCP gets what is left (udp_with_fallback would give it the whole limit again).
            message = dns.query.tcp(query, server, timeout=max(clock.left(), 0.001), port=port)
    except dns.exception.Timeout:
        return {
            "outcome": outcomes.Dns.TIMEOUT,
            "rcode": None,
            "detail": f"{where} did not answer {fqdn} within the limit",
        }
    except ConnectionRefusedError:
        return {
            "outcome": outcomes.Dns.REFUSED,
            "rcode": None,
            "detail": f"nothing listens on {where} (ICMP port unreachable)",
        }
    except OSError as exc:
        outcome = outcomes.Dns.REFUSED if exc.errno == errno.ECONNREFUSED else outcomes.Dns.TIMEOUT
        return {
            "outcome": outcome,
            "rcode": None,
            "detail": f"asking {where}: {exc.strerror or exc}",
            "errno": common.errno_name(exc.errno),
        }
    except dns.exception.DNSException as exc:
        return {
            "outcome": outcomes.Dns.SERVFAIL,
            "rcode": None,
            "detail": f"bad answer from {where}: {exc}",
        }
    rcode = dns.rcode.to_text(message.rcode())
    if message.rcode() == dns.rcode.NOERROR:
        return {"outcome": outcomes.Dns.RESOLVED, "rcode": rcode, "message": message, "detail": ""}
    outcome = _BY_RCODE.get(message.rcode(), outcomes.Dns.SERVFAIL)
    return {"outcome": outcome, "rcode": rcode, "detail": f"{where} answered {rcode} for {fqdn}"}
