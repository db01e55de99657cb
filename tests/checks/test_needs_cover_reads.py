"""A check reads objects only where its needs make live gathering fetch them: every check runs on
every demo and on the clusters of tests/elsewhere.py (objects beyond the two namespaces) with
each evidence lookup recorded as (kind, namespace, name), namespace None meaning every
namespace, and each must fall inside a declared need's scope as `evidence.needs.namespaces`
resolves it for that incident (the same function gather.plan lists with); a Secret or
ConfigMap fetched by reference must be one the incident's pod specs reference. A cluster-wide read
needs a cluster-wide need; a read of kube-system needs a DNS or CNI need; reading
`Evidence.objects` wholesale is never covered (live gathering never has it all). So a check cannot
see, from a full dump, what a live gathering never fetches: live and bundle findings agree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import elsewhere
from paramedic.checks import builtin, model, registry
from paramedic.evidence import demos, needs
from paramedic.evidence import model as evidence_model
from paramedic.gather import plan, table
from paramedic.kube import resolve
from paramedic.runbooks import model as runbook_model

RUNBOOK = runbook_model.builtin("db-connectivity")
ENGINE_SCANS = {"network-policy"}
"""The policy engine (paramedic.netpol) looks through every kind for policy kinds it does not
model yet (docs/NETPOL.md), and its matrix and blast radius read every pod the evidence holds;
tests/live/test_every_demo.py and test_other_namespaces.py hold its live findings equal to a full
dump's instead."""
EVERYTHING = "*"

Read = tuple[str, str | None, str | None]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[Read]]:
    """Every (kind, namespace, name) the code under test looks up while the set is recording
    (name None: a listing)."""
    seen: set[Read] = set()
    quiet: list[bool] = []
    kind, get = evidence_model.Evidence.kind, evidence_model.Evidence.get
    names = evidence_model.Evidence.namespace_names
    slot = evidence_model.Evidence.__dict__["objects"]

    def record(read: Read) -> None:
        if not quiet:
            seen.add(read)

    def recorded_kind(self, k, namespace=None):  # type: ignore[no-untyped-def]
        record((k, namespace, None))
        return kind(self, k, namespace)

    def recorded_get(self, k, namespace, name):  # type: ignore[no-untyped-def]
        record((k, namespace or None, name))
        return get(self, k, namespace, name)

    def every_object(self):  # type: ignore[no-untyped-def]
        record((EVERYTHING, None, None))
        return slot.__get__(self)

    def namespace_names(self):  # type: ignore[no-untyped-def]
        # which namespaces exist: what listing Namespaces answers live
        record(("Namespace", None, None))
        quiet.append(True)
        try:
            return names(self)
        finally:
            quiet.pop()

    monkeypatch.setattr(evidence_model.Evidence, "kind", recorded_kind)
    monkeypatch.setattr(evidence_model.Evidence, "get", recorded_get)
    monkeypatch.setattr(evidence_model.Evidence, "namespace_names", namespace_names)
    monkeypatch.setattr(evidence_model.Evidence, "objects", property(every_object, slot.__set__))
    yield seen


def uncovered(
    found: set[Read], declared: tuple[needs.Need, ...], scope: resolve.Scope
) -> set[Read]:
    """The reads no declared need makes live gathering fetch for this incident. A need that
    resolution fetches by name (REFERENCED: the Secrets and ConfigMaps the source's and the
    target's pod specs reference, gather.plan.referenced) covers only those objects, by name."""
    covered: dict[str, set[str | None]] = {}
    by_name: dict[str, set[tuple[str, str]]] = {}
    holders = [*scope.source_pods, *scope.target_pods]
    holders += [scope.source_workload] if scope.source_workload is not None else []
    secrets, config_maps = plan.referenced(holders)
    for need in declared:
        if not need.is_object:
            continue
        if need.scope is needs.Scope.REFERENCED and need.key in plan.RESOLVED[need.scope]:
            by_name.setdefault(need.kind, set()).update(
                secrets if need.kind == "Secret" else config_maps
            )
            continue
        where = needs.namespaces(need.scope, scope.namespace, scope.target_namespace)
        covered.setdefault(need.kind, set()).update({None} if where is None else where)
    missing = set()
    for kind, namespace, name in found:
        where = covered.get(kind, set())
        if kind in table.CLUSTER_SCOPED and (where or kind in by_name):
            continue  # listed cluster-wide whatever the need's scope
        if None in where or (namespace is not None and namespace in where):
            continue
        if name is not None and (namespace or "", name) in by_name.get(kind, set()):
            continue
        missing.add((kind, namespace, name))
    return missing


@pytest.mark.parametrize(
    "check_id", [c for c in (*RUNBOOK.checks, *RUNBOOK.next) if c not in ENGINE_SCANS]
)
def test_a_check_reads_objects_only_where_its_needs_fetch_them(
    check_id: str, reads: set[Read]
) -> None:
    assert builtin.load() == {}
    spec = registry.get(check_id)
    assert spec is not None
    problems = []
    cases = [
        *((d.name, demos.load(d.name)) for d in demos.available()),
        *((name, elsewhere.evidence(name)) for name in sorted(elsewhere.SCENARIOS)),
    ]
    for name, demo in cases:
        assert demo.incident is not None
        scope = resolve.resolve(demo, demo.incident, default_port=RUNBOOK.default_port)
        earlier = _earlier(demo, scope, check_id)
        reads.clear()
        spec.function(model.Context(evidence=demo, scope=scope, earlier=earlier))
        missing = uncovered(reads, spec.needs, scope)
        if missing:
            problems.append(f"{name}: {sorted(missing, key=str)}")
    assert not problems, f"{check_id} reads outside its needs:\n" + "\n".join(problems)


def _earlier(
    demo: evidence_model.Evidence, scope: resolve.Scope, check_id: str
) -> dict[str, model.Finding]:
    """The findings of the checks that run before `check_id`."""
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
