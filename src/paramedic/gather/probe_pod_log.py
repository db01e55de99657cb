"""Reading the probe pod's log: busybox `nslookup` and `nc -z` output as ProbeResults.

The probe pod's script (probe_pod.script) prints, for each check,

    @@paramedic KIND TARGET rc=EXIT ms=ELAPSED
    <the command's output>
    @@end

and this module turns each block into a `ProbeResult` in the schema of probes.json
(dns data: name, server, addresses, ttl, rcode; tcp data: host, port, address, errno).
busybox prints no TTL, so `ttl` is None; `timeout` exits 143 when it had to kill the command.
"""

from __future__ import annotations

from paramedic.evidence import probes_file
from paramedic.kube import names

MARK = "@@paramedic"
END = "@@end"


def parse(text: str, *, source: str, at: str) -> tuple[probes_file.ProbeResult, ...]:
    """ProbeResults from the probe pod's log (see `script`)."""
    results = []
    header: list[str] | None = None
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith(MARK + " "):
            header, body = line.split()[1:], []
        elif line == END and header is not None and len(header) == 4:
            kind, target, rc, ms = header
            fields = {k: v for k, v in (part.split("=", 1) for part in (rc, ms))}
            parse_one = _dns if kind == "dns" else _tcp
            results.append(
                parse_one(
                    target,
                    int(fields.get("rc", "1")),
                    float(fields.get("ms", "0")),
                    body,
                    source,
                    at,
                )
            )
            header = None
        elif header is not None:
            body.append(line)
    return tuple(results)


def _dns(
    target: str, rc: int, ms: float, out: list[str], source: str, at: str
) -> probes_file.ProbeResult:
    server = next((ln.split()[-1] for ln in out if ln.startswith("Server:")), "")
    addresses: list[str] = []
    named = False
    for ln in out:
        named = named or ln.startswith("Name:")
        if named and ln.startswith("Address") and ln.split()[-1] not in addresses:
            addresses.append(ln.split()[-1])
    text = "\n".join(out)
    rcode = next(
        (code for code in ("NXDOMAIN", "SERVFAIL", "REFUSED") if f": {code}" in text), None
    )
    if addresses:
        outcome, rcode = "resolved", "NOERROR"
    elif rcode:
        outcome = rcode.lower()
    elif "read: Connection refused" in text:  # nothing answers on port 53, or a REJECT rule
        outcome = "refused"
    elif rc in (124, 143) or "timed out" in text or "no servers could be reached" in text:
        outcome = "timeout"
    else:
        outcome = "servfail"
    detail = next(
        (ln for ln in out if ln.startswith(("**", ";;", "nslookup:"))),
        f"{len(addresses)} address(es)",
    )
    return probes_file.ProbeResult(
        kind="dns",
        target=target,
        outcome=outcome,
        elapsed_ms=ms,
        detail=detail.strip(),
        data={
            "name": target,
            "server": server,
            "addresses": addresses,
            "ttl": None,
            "rcode": rcode,
        },
        source=source,
        at=at,
    )


def _tcp(
    target: str, rc: int, ms: float, out: list[str], source: str, at: str
) -> probes_file.ProbeResult:
    host, _, port = target.rpartition(":")
    text = "\n".join(out).lower()
    for needle, found, code in (
        ("refused", "refused", "ECONNREFUSED"),
        ("no route", "unreachable", "EHOSTUNREACH"),
        ("network is unreachable", "unreachable", "ENETUNREACH"),
        ("reset", "reset", "ECONNRESET"),
        ("bad address", "dns-error", None),
        ("timed out", "timeout", "ETIMEDOUT"),
        ("timeout", "timeout", "ETIMEDOUT"),
    ):
        if rc != 0 and needle in text:
            outcome, errno = found, code
            break
    else:
        outcome, errno = _unexplained(rc, ms, text)
    return probes_file.ProbeResult(
        kind="tcp",
        target=target,
        outcome=outcome,
        elapsed_ms=ms,
        detail=(out[0].strip() if out and out[0].strip() else outcome),
        data={
            "host": host,
            "port": int(port) if port.isdigit() else port,
            "address": host if names.is_ip(host) else None,
            "errno": errno,
        },
        source=source,
        at=at,
    )


def _unexplained(rc: int, ms: float, text: str) -> tuple[str, str | None]:
    """Outcome of an nc run whose output names no known error."""
    if rc == 0:
        return "open", None
    if rc in (124, 143):  # killed by `timeout`
        return "timeout", "ETIMEDOUT"
    if any(s in text for s in ("usage:", "invalid option", "not found", "applet", "can't execute")):
        return "error", None  # the probe tool itself failed: says nothing about the network
    return ("timeout", "ETIMEDOUT") if ms >= 900 else ("error", None)
