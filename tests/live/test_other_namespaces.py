"""A cluster holds more than the incident's two namespaces (tests/elsewhere.py: a client of the
database with its autoscaler in a third one, the CNI's agent in calico-system with its pools
cluster-wide, a Service of the database's name elsewhere, Events about a same-named pod in
another namespace). Served through the fake API server, the live diagnosis must give every
finding's verdict, confidence, summary and fix exactly as the full dump does (a check that read
what gathering never fetched would see less live), and each scenario shows the object beyond
the two namespaces was used."""

from __future__ import annotations

from pathlib import Path

import pytest

import elsewhere

from . import fakeapi, livekit


@pytest.mark.parametrize("scenario", sorted(elsewhere.SCENARIOS))
def test_live_findings_equal_a_full_dumps_when_objects_sit_in_other_namespaces(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, check, shown = elsewhere.SCENARIOS[scenario]
    dump = elsewhere.evidence(scenario)
    assert dump.incident is not None
    objs = list(dump.objects)
    with fakeapi.FakeApiServer(objs, logs=dict(dump.logs), metrics=dump.metrics) as server:
        _, live = livekit.served_diagnosis(capsys, server, dump.incident, tmp_path)
    full = livekit.bundle_diagnosis(dump)
    for part in ("findings", "next"):
        whole = livekit.whole
        assert [whole(f) for f in live[part]] == [whole(f) for f in full[part]], part
    finding = next(f for f in live["findings"] if f["check"] == check)
    assert shown in str(finding), finding
