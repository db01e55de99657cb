"""Live gathering is derived from what the checks need: a check that needs a kind nobody fetched
before gets it fetched live, with no edit outside its own registration, in the incident's
namespaces and beyond them (kube-system, calico-system, cluster-wide); every built-in check's
needs are fetchable; connection-pool's HPAs and the database's other clients arrive live."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from paramedic.checks import builtin, model, registry
from paramedic.evidence import demos, needs
from paramedic.gather import plan, table
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import fakeapi, livekit

PDB = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "profile-db", "namespace": "data"},
    "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "profile-db"}}},
}


@registry.check(
    "t-disruption-budget",
    title="a check of a kind no built-in check reads",
    needs=(needs.Need("PodDisruptionBudget", needs.Scope.NAMESPACES, api="policy/v1"),),
)
def _budget(ctx: model.Context) -> model.Finding:
    found = ctx.evidence.kind("PodDisruptionBudget", "data")
    return model.Finding(
        verdict=model.Verdict.RULED_OUT if found else model.Verdict.INCONCLUSIVE,
        summary=f"{len(found)} PodDisruptionBudget(s)",
    )


def test_a_new_check_that_needs_a_new_kind_gets_it_fetched_live(tmp_path: Path) -> None:
    runbook = runbook_model.Runbook(
        id="with-budget", title="t", checks=("t-disruption-budget", "network-policy")
    )
    objects = [*livekit.seed_objects(), copy.deepcopy(PDB)]
    with fakeapi.FakeApiServer(objects) as server:
        config = server.kubeconfig(tmp_path / "k", namespace="app")
        default = livekit.gather(config)
        evidence = livekit.gather(config, wanted=engine.needs(runbook))
    assert default.kind("PodDisruptionBudget") == ()  # the built-in runbook does not need it
    assert [o["metadata"]["name"] for o in evidence.kind("PodDisruptionBudget")] == ["profile-db"]
    assert evidence.incident is not None
    result = engine.run(runbook, evidence, evidence.incident)
    assert ("t-disruption-budget", "1 PodDisruptionBudget(s)") in [
        (f.check, f.summary) for f in result.findings
    ]


ELSEWHERE = {
    # scope of the new check's need: the namespace its PodDisruptionBudget sits in, neither the
    # source's (app) nor the target's (data)
    needs.Scope.DNS: "kube-system",
    needs.Scope.CNI: "calico-system",
    needs.Scope.CLUSTER: "reporting",
}


def _budget_check(scope: needs.Scope, namespace: str) -> str:
    """Register a check that reads PodDisruptionBudgets of `namespace` through a need of `scope`."""
    check_id = f"t-budget-{scope}"

    def run(ctx: model.Context) -> model.Finding:
        found = ctx.evidence.kind("PodDisruptionBudget", namespace)
        return model.Finding(
            verdict=model.Verdict.RULED_OUT, summary=f"{len(found)} in {namespace}"
        )

    if registry.get(check_id) is None:
        registry.check(
            check_id,
            title=f"a check of PodDisruptionBudgets in {namespace}",
            needs=(needs.Need("PodDisruptionBudget", scope, api="policy/v1"),),
        )(run)
    return check_id


@pytest.mark.parametrize("scope", sorted(ELSEWHERE))
def test_a_new_checks_need_outside_the_incidents_namespaces_is_fetched_live(
    scope: needs.Scope, tmp_path: Path
) -> None:
    namespace = ELSEWHERE[scope]
    check_id = _budget_check(scope, namespace)
    runbook = runbook_model.Runbook(id="elsewhere", title="t", checks=(check_id,))
    budget = copy.deepcopy(PDB)
    budget["metadata"]["namespace"] = namespace
    with fakeapi.FakeApiServer([*livekit.seed_objects(), budget]) as server:
        config = server.kubeconfig(tmp_path / "k", namespace="app")
        default = livekit.gather(config)
        evidence = livekit.gather(config, wanted=engine.needs(runbook))
    assert default.kind("PodDisruptionBudget") == ()
    assert evidence.incident is not None
    result = engine.run(runbook, evidence, evidence.incident)
    assert [(f.check, f.summary) for f in result.findings] == [(check_id, f"1 in {namespace}")]


def test_every_builtin_check_needs_only_what_live_gathering_can_fetch() -> None:
    assert builtin.load() == {}
    for spec in registry.all_checks().values():
        if spec.id.startswith("t-"):
            continue
        assert spec.needs, f"{spec.id} declares no needs"
        assert table.unknown(spec.needs) == [], spec.id
        for need in spec.needs:
            if not need.is_object:
                continue
            covered = need.key in plan.RESOLVED.get(need.scope, ())
            served = frozenset({need.api}) if need.discover else None  # once discovery shows it
            listed = any(key == need.key for key, _ in plan.listings([need], "app", "data", served))
            assert covered or listed, f"{spec.id}: nothing fetches {need}"


def test_connection_pool_gets_the_hpas_and_the_other_clients_of_the_database_live(
    tmp_path: Path,
) -> None:
    demo = demos.load("too-many-connections")
    assert demo.incident is not None
    with fakeapi.FakeApiServer(demo.objects, logs=dict(demo.logs)) as server:
        config = server.kubeconfig(tmp_path / "k", namespace=str(demo.incident.namespace))
        evidence = livekit.gather(
            config,
            source=demo.incident.source,
            target=demo.incident.target,
            port=demo.incident.port,
            namespace=demo.incident.namespace,
        )
    wanted = {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"])
        for o in demo.objects
        if o["kind"] in ("HorizontalPodAutoscaler", "Deployment")
        and o["metadata"]["namespace"] != "kube-system"
    }
    got = {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for o in evidence.objects
    }
    assert wanted and wanted <= got
