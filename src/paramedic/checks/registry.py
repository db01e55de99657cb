"""The check registry: `@check(...)` records a check and returns the function unchanged.

A test can therefore call a check directly with a Context. Ids are stable (DESIGN.md §4) and
never change meaning; a new behaviour gets a new id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from paramedic.checks import model
from paramedic.evidence import needs as needs_model

CheckFunction = Callable[[model.Context], model.Finding]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CheckSpec:
    id: str
    title: str
    needs: tuple[needs_model.Need, ...]
    """Evidence the check reads (evidence.needs): live gathering fetches what these name, so a
    check can not read a kind that gathering never fetches."""
    function: CheckFunction


_REGISTRY: dict[str, CheckSpec] = {}


def check(
    id: str, *, title: str, needs: tuple[needs_model.Need, ...] = ()
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under a stable id."""
    wrong = [n for n in needs if not isinstance(n, needs_model.Need)]
    if wrong:
        raise TypeError(f"check {id!r}: needs must be evidence.needs.Need values, not {wrong[0]!r}")

    def register(function: CheckFunction) -> CheckFunction:
        if id in _REGISTRY and _REGISTRY[id].function is not function:
            raise ValueError(f"check id {id!r} registered twice")
        _REGISTRY[id] = CheckSpec(id=id, title=title, needs=needs, function=function)
        return function

    return register


def get(id: str) -> CheckSpec | None:
    return _REGISTRY.get(id)


def all_checks() -> dict[str, CheckSpec]:
    return dict(_REGISTRY)
