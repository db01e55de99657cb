"""Hypothesis: every registered check returns a Finding (never raises) on damaged evidence, and a
whole runbook run over damaged evidence records no check errors, for every shipped demo.

Damage is what a hand-made bundle can hold and the bundle loader still accepts: any field of any
object or PodMetrics removed, nulled or given the wrong type (the loader itself checks kind,
apiVersion, metadata.name/namespace/labels and that spec/status are mappings), log lines replaced,
cut short, renumbered or joined by other demos' lines, and recorded probe results (also ones
borrowed from other demos) with other targets, outcomes and timings and `data` fields of the
wrong type.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzzing
from paramedic import errors
from paramedic.checks import builtin, model, registry
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

DEMOS = [d.name for d in demos.available()]
CHECK_IDS = (
    "network-policy",
    "dns",
    "service-endpoints",
    "resources",
    "connection-pool",
    "firewall",
    "credentials",
    "readiness-probe",
)
LOADER_CHECKED = {("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels")}
"""The loader refuses objects whose name, namespace or labels (not label values) are mistyped."""
JUNK = st.sampled_from(
    [
        None,
        "",
        "x",
        " 7 ",
        "-5",
        "²",
        "٣",
        "1.5",
        "50%",
        "x%",
        "1Gi",
        "1e999",
        "NaN",
        "2026-13-45T99:99:99Z",
        "abc:def",
        "-",
        0,
        -1,
        137,
        10**30,
        1.5,
        math.nan,
        True,
        [],
        {},
        ["x"],
        [None],
        [{}],
        [1],
        {"x": "y"},
        {"name": 5},
    ]
)
LINE_JUNK = [
    "",
    "x",
    "\x00",
    "FATAL:  sorry, too many clients already",
    "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
    'FATAL:  password authentication failed for user "',
    'FATAL:  no pg_hba.conf entry for host "x", user "", database ""',
    "dial tcp 10.0.0.1:notaport: i/o timeout",
    "lookup x on 10.96.0.10:53: no such host",
    "[FATAL] plugin/loop: Loop (127.0.0.1:x -> :53) detected for zone",
    "LOG:  duration: x ms  statement: SELECT 1",
    "Readiness probe failed:",
]
REFERENCE = runbook_model.builtin("db-connectivity")
PROBE_TARGETS = ["", "x", ":", "host:notaport", "10.0.0.1:99999", "[::1]:5432", "a/b", "a:1/db"]
PROBE_OUTCOMES = ["ok", "open", "resolved", "timeout", "refused", "nxdomain", "error", "x", ""]


@functools.cache
def _demo(name: str) -> evidence_model.Evidence:
    return demos.load(name)


@functools.cache
def _all_log_lines() -> tuple[str, ...]:
    lines = [line for d in DEMOS for v in _demo(d).logs.values() for line in v]
    return tuple(dict.fromkeys([*lines, *LINE_JUNK]))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON-like value."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _damageable(obj: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Paths the loader lets be anything (spec/status themselves only missing or null)."""
    return [
        p
        for p in _paths(obj)
        if p
        and p[0] not in ("apiVersion", "kind")
        and p != ("metadata",)
        and p not in LOADER_CHECKED
    ]


def _damage(root: Any, path: tuple[Any, ...], junk: Any, delete: bool) -> None:
    target = root
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        del target[path[-1]]
    elif path in (("spec",), ("status",)):
        target[path[-1]] = None  # the loader allows a null spec/status, not another type
    else:
        target[path[-1]] = copy.deepcopy(junk)


def _damage_objects(data: st.DataObject, items: list[dict[str, Any]], most: int) -> None:
    if not items:
        return
    for _ in range(data.draw(st.integers(min_value=0, max_value=most), label="object damages")):
        obj = items[data.draw(st.integers(min_value=0, max_value=len(items) - 1))]
        candidates = _damageable(obj)
        if candidates:
            path = data.draw(st.sampled_from(candidates), label="path")
            _damage(obj, path, data.draw(JUNK, label="junk"), data.draw(st.booleans()))


def _damage_logs(
    data: st.DataObject, logs: dict[evidence_model.LogKey, list[str]]
) -> dict[evidence_model.LogKey, tuple[str, ...]]:
    keys = sorted(logs)
    for _ in range(
        data.draw(st.integers(min_value=0, max_value=3), label="log damages") * bool(keys)
    ):
        lines = logs[data.draw(st.sampled_from(keys), label="log")]
        i = data.draw(st.integers(min_value=0, max_value=len(lines)), label="line")
        other = data.draw(st.sampled_from(_all_log_lines()), label="other line")
        how = data.draw(st.sampled_from(["replace", "cut", "renumber", "insert"]), label="how")
        if how == "insert" or i == len(lines):
            lines.insert(i, other)
        elif how == "replace":
            lines[i] = other
        elif how == "cut":
            lines[i] = lines[i][: data.draw(st.integers(min_value=0, max_value=len(lines[i])))]
        else:
            number = data.draw(st.sampled_from(["", "x", "-1", "0", "99999999999999999999", "²"]))
            lines[i] = re.sub(r"\d+", number, lines[i])
    return {k: tuple(v) for k, v in logs.items()}


@functools.cache
def _all_probes() -> tuple[Any, ...]:
    return tuple(p for d in DEMOS for p in _demo(d).probes)


def _damage_probes(data: st.DataObject, ev: evidence_model.Evidence) -> list[Any]:
    probes = list(ev.probes)
    if data.draw(st.booleans(), label="borrow a probe"):  # also on demos that recorded none
        probes.append(data.draw(st.sampled_from(_all_probes()), label="borrowed"))
    for _ in range(
        data.draw(st.integers(min_value=0, max_value=3), label="probe damages") * bool(probes)
    ):
        i = data.draw(st.integers(min_value=0, max_value=len(probes) - 1), label="probe")
        probe = probes[i]
        fields = copy.deepcopy(dict(probe.data))
        candidates = [p for p in _paths(fields) if p]
        what = data.draw(st.sampled_from(["data", "data", "target", "outcome", "elapsed"]))
        if what == "data" and candidates:
            path = data.draw(st.sampled_from(candidates), label="data path")
            _damage(fields, path, data.draw(JUNK, label="junk"), data.draw(st.booleans()))
            probes[i] = dataclasses.replace(probe, data=fields)
        elif what == "target":
            probes[i] = dataclasses.replace(probe, target=data.draw(st.sampled_from(PROBE_TARGETS)))
        elif what == "outcome":
            outcome = data.draw(st.sampled_from(PROBE_OUTCOMES))
            probes[i] = dataclasses.replace(probe, outcome=outcome)
        elif what == "elapsed":
            elapsed = data.draw(st.sampled_from([0.0, -1.0, math.inf, math.nan, 1e12]))
            probes[i] = dataclasses.replace(probe, elapsed_ms=elapsed)
    return probes


def _damaged(data: st.DataObject, name: str) -> evidence_model.Evidence:
    ev = _demo(name)
    objects = copy.deepcopy(list(ev.objects))
    _damage_objects(data, objects, most=4)
    metrics = copy.deepcopy(list(ev.metrics))
    _damage_objects(data, metrics, most=2)
    logs = _damage_logs(data, {k: list(v) for k, v in ev.logs.items()})
    return evidence_model.Evidence.of(
        objects,
        logs=logs,
        metrics=metrics,
        probes=_damage_probes(data, ev),
        incident=ev.incident,
        provenance=ev.provenance,
        gaps=ev.gaps,
    )


def _check_order() -> list[str]:
    """Every built-in check: the reference runbook's in its order (later checks read
    `earlier`), then any others (not the ones other tests register to see errors handled)."""
    assert builtin.load() == {}
    ids = [*REFERENCE.checks, *REFERENCE.next]
    return ids + [
        i
        for i, spec in registry.all_checks().items()
        if i not in ids and spec.function.__module__ in builtin.MODULES
    ]


def test_the_fuzzed_checks_include_all_eight_of_the_reference_runbook():
    assert set(CHECK_IDS) <= set(_check_order())


@pytest.mark.parametrize("name", DEMOS)
@fuzzing.depth(60)
@given(data=st.data())
def test_every_check_returns_a_finding_on_damaged_evidence(name, data):
    order = _check_order()
    damaged = _damaged(data, name)
    assert damaged.incident is not None
    try:
        scope = resolve.resolve(damaged, damaged.incident, default_port=REFERENCE.default_port)
    except errors.InputError:  # damaged beyond resolving: a one-line error, fine
        return
    earlier: dict[str, model.Finding] = {}
    for check_id in order:
        spec = registry.get(check_id)
        assert spec is not None
        finding = spec.function(model.Context(evidence=damaged, scope=scope, earlier=dict(earlier)))
        assert isinstance(finding, model.Finding), check_id
        assert finding.check in ("", check_id)  # the engine stamps the registered id
        earlier[check_id] = finding


@pytest.mark.parametrize("name", DEMOS)
@fuzzing.depth(30)
@given(data=st.data())
def test_a_runbook_run_on_damaged_evidence_records_no_check_errors(name, data):
    damaged = _damaged(data, name)
    assert damaged.incident is not None
    runbook = runbook_model.builtin(damaged.incident.runbook)
    try:
        result = engine.run(runbook, damaged, damaged.incident)
    except errors.InputError:  # the incident no longer resolves: exit 2 with one line, fine
        return
    assert result.errors == ()
    assert {f.check for f in (*result.findings, *result.next)} == {*runbook.checks, *runbook.next}
