"""`netpol assert` files: a list of expected flows, parsed strictly and evaluated exactly.

    - {from: x/a, to: y/b, port: 80, protocol: TCP, allowed: true}   # protocol defaults to TCP
    - {from: 203.0.113.9, to: x/a, port: http, allowed: false, why: "only the LB may reach it"}

Other keys (why, name, ...) are echoed back in the result, never an error. A peer that resolves
to several pods (a Service) is allowed only when every backing flow is; when some are and some
are not, the result says `"partial": true` and the expectation fails either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic import errors
from paramedic.evidence import model as evidence_model
from paramedic.netpol import engine, model, peers

_KNOWN = ("from", "to", "port", "protocol", "allowed")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    src: str
    dst: str
    port: int | str
    protocol: str
    allowed: bool
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def parse(doc: Any, *, where: str) -> list[Expectation]:
    """Expectations from a decoded YAML document; InputError naming the item on any problem."""
    if doc is None or doc == []:
        # An empty (or truncated) file must not turn a CI gate green.
        raise errors.InputError(f"{where}: no expectations (expected a list of flows)")
    if not isinstance(doc, list):
        raise errors.InputError(f"{where}: expected a list of flows")
    items = []
    for i, raw in enumerate(doc):
        here = f"{where}: item {i + 1}"
        if not isinstance(raw, dict):
            raise errors.InputError(f"{here}: expected a mapping with from, to, port, allowed")
        missing = [k for k in ("from", "to", "port", "allowed") if raw.get(k) is None]
        if missing:
            raise errors.InputError(f"{here}: missing {', '.join(missing)}")
        if not isinstance(raw["allowed"], bool):
            raise errors.InputError(f"{here}: allowed must be true or false")
        port = raw["port"]
        if isinstance(port, bool) or not isinstance(port, int | str):
            raise errors.InputError(f"{here}: port must be a number or a port name")
        protocol = raw.get("protocol") or "TCP"
        if not isinstance(protocol, str) or protocol.upper() not in model.PROTOCOLS:
            raise errors.InputError(f"{here}: protocol must be TCP, UDP or SCTP")
        items.append(
            Expectation(
                src=str(raw["from"]),
                dst=str(raw["to"]),
                port=port,
                protocol=protocol.upper(),
                allowed=raw["allowed"],
                extra={k: v for k, v in raw.items() if k not in _KNOWN},
            )
        )
    return items


def flows(
    evidence: evidence_model.Evidence,
    src: str,
    dst: str,
    port: int | str,
    protocol: str = "TCP",
    semantics: model.Semantics = model.DEFAULT,
) -> list[tuple[peers.Endpoint, peers.Endpoint, model.FlowResult]]:
    """Every (source, destination) flow that 'src -> dst:port' stands for, evaluated."""
    sources = peers.resolve(evidence, src, None, protocol, source=True)
    targets = peers.resolve(evidence, dst, port, protocol)
    found = []
    for s in sources:
        for d in targets:
            result = engine.check_flow(
                evidence,
                s.peer,
                d.peer,
                d.port if d.port is not None else port,
                protocol,
                semantics,
            )
            found.append((s, d, result))
    return found


def evaluate(
    evidence: evidence_model.Evidence,
    items: list[Expectation],
    semantics: model.Semantics = model.DEFAULT,
) -> list[dict[str, Any]]:
    """One result per expectation, in input order (DESIGN.md §3 shape, extra keys echoed)."""
    results = []
    for i, item in enumerate(items):
        try:
            found = flows(evidence, item.src, item.dst, item.port, item.protocol, semantics)
        except errors.InputError as exc:
            raise errors.InputError(f"item {i + 1} ({item.src} -> {item.dst}): {exc}") from exc
        verdicts = {r.allowed for *_, r in found}
        allowed = verdicts == {True}
        partial = len(verdicts) > 1
        out: dict[str, Any] = dict(item.extra)
        out.update(
            {
                "from": item.src,
                "to": item.dst,
                "port": item.port,
                "protocol": item.protocol,
                "expected": item.allowed,
                "allowed": allowed,
                "ok": (not partial) and allowed == item.allowed,
            }
        )
        if partial:
            out["partial"] = True
        out["explanation"] = [_line(r) for *_, r in found]
        results.append(out)
    return results


def _line(result: model.FlowResult) -> str:
    if result.allowed:
        return f"{result.summary()} ({result.egress.reason}; {result.ingress.reason})"
    return f"{result.summary()}: " + "; ".join(
        f"{d.direction}: {d.reason}" for d in result.blocking
    )
