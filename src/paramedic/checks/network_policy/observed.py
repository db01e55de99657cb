"""What the `network-policy` detector saw: every source -> target flow judged by the engine,
and what qualifies the answer (invalid or hidden policies, unevaluated objects, blocked DNS)."""

from __future__ import annotations

import dataclasses
from typing import Any

from paramedic.checks import model
from paramedic.evidence import model as evidence_model
from paramedic.netpol import model as netpol_model
from paramedic.netpol import peers

Flow = tuple[Any, Any, Any, Any]
"""(source, target, port, engine verdict)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """Every source -> target flow judged by the engine, and what qualifies the answer."""

    sources: list[peers.Peer]
    results: list[Flow]
    protocol: str
    details: dict[str, Any]
    extra: tuple[model.Cite, ...]
    """Invalid policy lines, evidence gaps about policies, blocked DNS egress."""
    unsure: bool
    """A policy could not be read or parsed: 'allowed' is not certain."""
    gaps: tuple[evidence_model.Gap, ...]
    """What hid policy objects from the evidence (hidden.py)."""
    invalid: tuple[str, ...] = ()
    """One line per policy that could not be parsed."""
    unmodelled: tuple[netpol_model.Unmodelled, ...] = ()
    """Policy objects that could block these flows but that no layer evaluates."""
    semantics: netpol_model.Semantics = netpol_model.DEFAULT
