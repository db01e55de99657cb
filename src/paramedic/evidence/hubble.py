"""Hubble flow records in a bundle: `flows/*.jsonl`, exactly as `hubble observe -o jsonpb` prints
them (one JSON object per line: `{"flow": {...}, "node_name": ..., "time": ...}`, proto field
names), read as a stream within the bundle's bounds (docs/BUNDLE.md, "Hubble flows").

Only DROPPED flows are kept (they are the evidence a check cites), at most `MAX_DROPS` of them;
every other verdict is counted. A line that is not such a JSON object, or longer than
`MAX_LINE_BYTES`, is skipped and counted, never fatal: the loader turns the counts into one gap
line per file. A file is read line by line, so memory stays bounded whatever its size (a 50 MB
file: docs/PERFORMANCE.md); a file past `MAX_FLOW_FILE_BYTES`, and files past `MAX_FLOWS_BYTES`
in all, are read only up to those limits and the rest is named in a gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

MAX_LINE_BYTES = 64 * 1024
"""A flow line is ~1 KB; a longer line is skipped as malformed."""
MAX_FLOW_FILE_BYTES = 512 * 1024 * 1024
MAX_FLOWS_BYTES = 1024 * 1024 * 1024
MAX_DROPS = 20_000
"""DROPPED flows kept per bundle; further ones are counted."""
POLICY_DROP_REASONS = frozenset({"POLICY_DENIED", "POLICY_DENY", "133", "181"})
"""Cilium's drop reasons for a policy verdict: 133 no allow rule (POLICY_DENIED), 181 a deny rule
(POLICY_DENY); older Hubble prints only the number (`drop_reason`)."""
PROTOCOLS = ("TCP", "UDP", "SCTP", "ICMPv4", "ICMPv6")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    ip: str = ""
    namespace: str = ""
    pod: str = ""

    def describe(self) -> str:
        return f"{self.namespace}/{self.pod}" if self.pod else self.ip or "?"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """One DROPPED flow as Hubble recorded it."""

    time: str
    verdict: str
    drop_reason: str
    direction: str
    """INGRESS or EGRESS: the side whose policy decided ('' when not recorded)."""
    source: Endpoint
    destination: Endpoint
    protocol: str
    port: int | None
    denied_by: tuple[str, ...] = ()
    """Policies Hubble names (`ingress_denied_by` / `egress_denied_by`), when it does."""
    where: str = ""
    """'flows/drops.jsonl:12'."""

    @property
    def policy_drop(self) -> bool:
        return self.drop_reason in POLICY_DROP_REASONS

    def describe(self) -> str:
        port = f"{self.protocol}/{self.port}" if self.port is not None else self.protocol
        by = f" by {', '.join(self.denied_by)}" if self.denied_by else ""
        return (
            f"Hubble: {self.verdict} {self.drop_reason or '?'} {self.source.describe()} -> "
            f"{self.destination.describe()} {port} ({self.direction or '?'}){by} at {self.time}"
        )


@dataclasses.dataclass(slots=True)
class Tally:
    """What reading one file found besides the drops it kept."""

    lines: int = 0
    malformed: int = 0
    first_malformed: int = 0
    other_verdicts: int = 0
    dropped_over_limit: int = 0
    truncated: bool = False


def read_lines(chunks: Iterable[bytes]) -> Iterator[bytes | None]:
    """Lines of a stream of byte chunks; None for a line over MAX_LINE_BYTES (never held whole)."""
    pending = bytearray()
    too_long = False
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not too_long:
                    pending += chunk[start:]
                    if len(pending) > MAX_LINE_BYTES:
                        too_long, pending = True, bytearray()
                break
            if too_long:
                yield None
            else:
                pending += chunk[start:end]
                yield None if len(pending) > MAX_LINE_BYTES else bytes(pending)
            pending, too_long, start = bytearray(), False, end + 1
    if too_long:
        yield None
    elif pending.strip():
        yield bytes(pending)


def parse(chunks: Iterable[bytes], name: str, room: int) -> tuple[list[Flow], Tally]:
    """The DROPPED flows of one file (at most `room`), and the tally of the rest."""
    kept: list[Flow] = []
    tally = Tally()
    for number, line in enumerate(read_lines(chunks), start=1):
        tally.lines = number
        record = _record(line) if line is not None else None
        if record is None:
            if line is not None and not line.strip():
                continue  # a blank line is not a malformed one
            tally.malformed += 1
            tally.first_malformed = tally.first_malformed or number
            continue
        if record.flow.verdict != "DROPPED":
            tally.other_verdicts += 1
            continue
        if len(kept) >= room:
            tally.dropped_over_limit += 1
            continue
        kept.append(_flow(record.flow, record, f"{name}:{number}"))
    return kept, tally


class _Endpoint(msgspec.Struct):
    namespace: str = ""
    pod_name: str = ""


class _Address(msgspec.Struct):
    source: str = ""
    destination: str = ""


class _Ports(msgspec.Struct):
    destination_port: int | None = None


class _Policy(msgspec.Struct):
    name: str = ""
    namespace: str = ""
    kind: str = ""


class _Flow(msgspec.Struct):
    """The fields of a Hubble Flow kept here (proto field names, as jsonpb prints them); every
    other field is validated as JSON and skipped."""

    time: str = ""
    verdict: str = ""
    drop_reason: int | None = None
    drop_reason_desc: str = ""
    traffic_direction: str = ""
    IP: _Address | None = None
    l4: dict[str, _Ports] | None = None
    source: _Endpoint | None = None
    destination: _Endpoint | None = None
    ingress_denied_by: list[_Policy] = []
    egress_denied_by: list[_Policy] = []


class _Record(msgspec.Struct):
    flow: _Flow
    time: str = ""


_DECODER = msgspec.json.Decoder(_Record)


def _record(line: bytes) -> _Record | None:
    try:
        return _DECODER.decode(line)
    except (msgspec.DecodeError, RecursionError):
        return None


def _flow(flow: _Flow, record: _Record, where: str) -> Flow:
    address = flow.IP or _Address()
    l4 = flow.l4 or {}
    protocol = next((p for p in PROTOCOLS if p in l4), "")
    port = l4[protocol].destination_port if protocol else None
    direction = flow.traffic_direction
    denied = flow.egress_denied_by if direction == "EGRESS" else flow.ingress_denied_by
    return Flow(
        time=flow.time or record.time,
        verdict="DROPPED",
        drop_reason=flow.drop_reason_desc or (str(flow.drop_reason) if flow.drop_reason else ""),
        direction=direction if direction in ("INGRESS", "EGRESS") else "",
        source=_endpoint(flow.source, address.source),
        destination=_endpoint(flow.destination, address.destination),
        protocol=protocol,
        port=port if port is not None and 0 <= port <= 65535 else None,
        denied_by=tuple(
            f"{p.kind or 'policy'} {p.namespace + '/' if p.namespace else ''}{p.name or '?'}"
            for p in denied
        ),
        where=where,
    )


def _endpoint(raw: _Endpoint | None, ip: str) -> Endpoint:
    found = raw or _Endpoint()
    return Endpoint(ip=ip, namespace=found.namespace, pod=found.pod_name)


def gap(name: str, tally: Tally) -> str | None:
    """The one gap line a file's skipped content makes, if any."""
    parts = []
    if tally.malformed:
        parts.append(
            f"{tally.malformed} malformed line{'s' if tally.malformed != 1 else ''} skipped "
            f"(first: line {tally.first_malformed})"
        )
    if tally.dropped_over_limit:
        parts.append(
            f"{tally.dropped_over_limit} DROPPED flows past the first {MAX_DROPS} not kept"
        )
    if tally.truncated:
        parts.append("read only up to the flow size limit")
    return f"{name}: {'; '.join(parts)}" if parts else None


Chunks = Iterator[bytes]


def load(names: Iterable[str], open_chunks: Any) -> tuple[tuple[Flow, ...], tuple[str, ...]]:
    """The DROPPED flows of every file (`open_chunks(name)` streams its bytes) and the gap lines
    for what was skipped; past MAX_FLOWS_BYTES in all, the remaining files are only named."""
    flows: list[Flow] = []
    gaps: list[str] = []
    budget = MAX_FLOWS_BYTES
    unread: list[str] = []
    for name in names:
        if budget <= 0:
            unread.append(name)
            continue
        read = 0
        cut = False

        def counted(source: Chunks, limit: int) -> Chunks:
            nonlocal read, cut
            for chunk in source:
                room = limit - read
                if len(chunk) > room:
                    cut = True
                    chunk = chunk[:room]
                read += len(chunk)
                if chunk:
                    yield chunk
                if cut:
                    return

        limit = min(MAX_FLOW_FILE_BYTES, budget)
        found, tally = parse(counted(open_chunks(name), limit), name, MAX_DROPS - len(flows))
        tally.truncated = cut
        budget -= read
        flows += found
        line = gap(name, tally)
        gaps += [line] if line else []
    if unread:
        gaps.append(
            f"flows: {len(unread)} file(s) past the {MAX_FLOWS_BYTES // (1024 * 1024)} MiB "
            f"read limit not read: {', '.join(unread[:3])}"
        )
    return tuple(flows), tuple(gaps)
