"""Recorded probe results: the `ProbeResult` value and the `probes.json` bundle file.

A probe (tcp, dns, postgres) measures something live; its result is evidence like any
Kubernetes object, so it is recorded in bundles and read back by the same checks.

probes.json, schema "paramedic.probes/v1" (documented in docs/BUNDLE.md):

    {"schema": "paramedic.probes/v1",
     "probes": [{"kind": "tcp", "target": "10.96.0.12:5432", "outcome": "timeout",
                 "elapsed_ms": 3001.2, "detail": "...", "data": {...},
                 "source": "local", "at": "2026-11-26T04:00:00Z"}]}

`data` is kind-specific (dns: addresses, ttl; postgres: max_connections, usage, ...).
Two optional fields say where a probe ran from, for the pod-versus-node contrast of the checks:
`vantage` ("pod": a pod wearing the source's labels; "node": a hostNetwork pod, the node's own
network; absent: unknown, e.g. the laptop) and `node` (the node it ran on). They are written only
when known, so older files read unchanged. No field ever holds a password.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic import errors

SCHEMA = "paramedic.probes/v1"
KINDS = ("tcp", "dns", "postgres")
VANTAGES = ("pod", "node")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """One measurement: what was probed, what came back, how long it took."""

    kind: str
    target: str
    outcome: str
    elapsed_ms: float
    detail: str = ""
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    source: str = "local"
    at: str = ""
    vantage: str = ""
    """'pod' (source-labelled pod), 'node' (hostNetwork pod) or '' (not known)."""
    node: str = ""
    """The node the probe ran on, when known."""

    @property
    def ok(self) -> bool:
        return self.outcome in ("open", "resolved", "ok")

    def as_dict(self) -> dict[str, Any]:
        where = {k: v for k, v in (("vantage", self.vantage), ("node", self.node)) if v}
        return {
            "kind": self.kind,
            "target": self.target,
            "outcome": self.outcome,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "detail": self.detail,
            "data": dict(self.data),
            "source": self.source,
            "at": self.at,
            **where,
        }


def parse(document: Any, *, where: str) -> tuple[ProbeResult, ...]:
    """Probe results from a decoded probes.json document; `where` names the file in errors."""
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise errors.BundleError(f'{where}: expected an object with "schema": "{SCHEMA}"')
    items = document.get("probes")
    if not isinstance(items, list):
        raise errors.BundleError(f'{where}: "probes" must be a list')
    results = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise errors.BundleError(f"{where}: probes[{i}] must be an object")
        try:
            kind, target, outcome = str(item["kind"]), str(item["target"]), str(item["outcome"])
            elapsed = float(item.get("elapsed_ms", 0.0))
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.BundleError(
                f"{where}: probes[{i}] needs kind, target, outcome and a numeric elapsed_ms"
            ) from exc
        if kind not in KINDS:
            raise errors.BundleError(f"{where}: probes[{i}].kind {kind!r} is not one of {KINDS}")
        vantage, node = str(item.get("vantage") or ""), str(item.get("node") or "")
        if vantage and vantage not in VANTAGES:
            raise errors.BundleError(
                f"{where}: probes[{i}].vantage {vantage!r} is not one of {VANTAGES}"
            )
        data = item.get("data") or {}
        if not isinstance(data, dict):
            raise errors.BundleError(f"{where}: probes[{i}].data must be an object")
        results.append(
            ProbeResult(
                kind=kind,
                target=target,
                outcome=outcome,
                elapsed_ms=elapsed,
                detail=str(item.get("detail", "")),
                data=data,
                source=str(item.get("source", "local")),
                at=str(item.get("at", "")),
                vantage=vantage,
                node=node,
            )
        )
    return tuple(results)


def dumps(results: Iterable[ProbeResult]) -> str:
    """probes.json text for `results`."""
    return json.dumps(
        {"schema": SCHEMA, "probes": [r.as_dict() for r in results]}, indent=2, sort_keys=False
    )
