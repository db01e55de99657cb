"""A check reads only kinds it declares in `needs`, so live gathering (derived from the needs)
fetches everything a check looks at: every check runs on every demo with the evidence lookups
recorded, and every kind it read must be one of its needs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paramedic.checks import builtin, model, registry
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.runbooks import model as runbook_model

RUNBOOK = runbook_model.builtin("db-connectivity")
ENGINE_SCANS = {"network-policy"}
"""The policy engine (paramedic.netpol) looks through many kinds for policy kinds it does not
model yet (docs/NETPOL.md); those lookups find nothing in a live gathering that never asked."""


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    seen: set[str] = set()
    kind, get = evidence_model.Evidence.kind, evidence_model.Evidence.get

    def recorded_kind(self, k, namespace=None):  # type: ignore[no-untyped-def]
        seen.add(k)
        return kind(self, k, namespace)

    def recorded_get(self, k, namespace, name):  # type: ignore[no-untyped-def]
        seen.add(k)
        return get(self, k, namespace, name)

    monkeypatch.setattr(evidence_model.Evidence, "kind", recorded_kind)
    monkeypatch.setattr(evidence_model.Evidence, "get", recorded_get)
    yield seen


@pytest.mark.parametrize(
    "check_id", [c for c in (*RUNBOOK.checks, *RUNBOOK.next) if c not in ENGINE_SCANS]
)
def test_a_check_reads_only_the_kinds_it_needs(check_id: str, reads: set[str]) -> None:
    assert builtin.load() == {}
    spec = registry.get(check_id)
    assert spec is not None
    declared = {n.kind for n in spec.needs}
    for demo_info in demos.available():
        demo = demos.load(demo_info.name)
        assert demo.incident is not None
        scope = resolve.resolve(demo, demo.incident, default_port=RUNBOOK.default_port)
        earlier = _earlier(demo, scope, check_id)
        reads.clear()
        spec.function(model.Context(evidence=demo, scope=scope, earlier=earlier))
        assert reads <= declared, f"{check_id} on {demo_info.name}: reads {reads - declared}"


def _earlier(
    demo: evidence_model.Evidence, scope: resolve.Scope, check_id: str
) -> dict[str, model.Finding]:
    """The findings of the checks that run before `check_id` (read outside the recording)."""
    earlier: dict[str, model.Finding] = {}
    for other in (*RUNBOOK.checks, *RUNBOOK.next):
        if other == check_id:
            break
        spec = registry.get(other)
        assert spec is not None
        earlier[other] = spec.function(
            model.Context(evidence=demo, scope=scope, earlier=dict(earlier))
        )
    return earlier
