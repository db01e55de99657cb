"""Hypothesis: service-endpoints, credentials and resources return a finding (never raise) on
damaged evidence: fields removed, nulled or given the wrong type, in any object of a demo."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramedic import errors
from paramedic.checks import credentials, model, resources, service_endpoints
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve

DEMOS = ["selector-mismatch", "rotated-secret", "missing-secret-key", "db-oomkilled"]
CHECKS = [service_endpoints.run, credentials.run, resources.run]
LOADER_CHECKED = {("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels")}
"""The loader refuses objects whose name, namespace or labels have the wrong type."""
JUNK = st.sampled_from(
    [None, "", "x", 0, -1, 137, True, [], {}, ["x"], {"x": "y"}, "1e999", "2026-13-45T99:99:99Z"]
)


def paths(value, prefix=()):
    """Every path into a JSON-like value."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


def damage(obj, path, junk, delete):
    target = obj
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = copy.deepcopy(junk)


@pytest.mark.parametrize("name", DEMOS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_checks_survive_damaged_objects(name, data):
    ev = demos.load(name)
    objects = copy.deepcopy(list(ev.objects))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        index = data.draw(st.integers(min_value=0, max_value=len(objects) - 1))
        candidates = [
            p for p in paths(objects[index]) if len(p) >= 2 and p[:2] not in LOADER_CHECKED
        ]
        if not candidates:
            continue
        path = data.draw(st.sampled_from(candidates))
        damage(objects[index], path, data.draw(JUNK), data.draw(st.booleans()))
    metrics = copy.deepcopy(list(ev.metrics))
    if metrics and data.draw(st.booleans()):
        metrics[0]["containers"] = copy.deepcopy(data.draw(JUNK))
    damaged = evidence_model.Evidence.of(
        objects, logs=ev.logs, metrics=metrics, probes=ev.probes, incident=ev.incident
    )
    assert ev.incident is not None
    try:
        scope = resolve.resolve(damaged, ev.incident, default_port=5432)
    except errors.InputError:  # damaged beyond resolving: a one-line error, fine
        return
    for check in CHECKS:
        finding = check(model.Context(evidence=damaged, scope=scope))
        assert isinstance(finding, model.Finding)
