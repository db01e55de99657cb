"""Every shipped demo, served as a live cluster: the live diagnosis equals the diagnosis of the
bundle it captured of the same gathering (`diagnose --capture`), every finding's verdict,
confidence and fix equal those the demo's own bundle gives (recorded probes aside), and it finds
the demo's expected causes - so the gatherer fetches every object, log and metric the checks need
(a demo reaches its verdicts from its objects and logs; recorded probes are not served, as a live
run without probe flags has none). A demo whose cause can only come from its recorded probes
belongs in NEEDS_RECORDED_PROBES."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model

from . import fakeapi, livekit

NEEDS_RECORDED_PROBES: frozenset[str] = frozenset()
NOT_GATHERED_LIVE: dict[str, str] = {}
"""Demos whose deciding objects the live gatherer cannot fetch yet, each with why."""
LIVE_DEMOS = [d.name for d in demos.available() if d.name not in NOT_GATHERED_LIVE]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code, out, err = livekit.run(capsys, *argv)
    assert code in (0, 1), err
    return code, out


@pytest.mark.parametrize("name", LIVE_DEMOS)
def test_live_and_captured_diagnoses_of_every_demo_agree(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = demos.load(name)
    assert demo.incident is not None
    incident = demo.incident
    captured = tmp_path / "b.tar.gz"
    with fakeapi.FakeApiServer(demo.objects, logs=dict(demo.logs), metrics=demo.metrics) as server:
        live_code, live_doc = livekit.served_diagnosis(
            capsys, server, incident, tmp_path, "--capture", str(captured)
        )
    offline_code, offline_out = _run(capsys, "diagnose", str(captured), "-o", "json")
    keys = ("incident", "findings", "next", "errors")
    offline_doc = json.loads(offline_out)
    assert {k: live_doc[k] for k in keys} == {k: offline_doc[k] for k in keys}
    assert live_code == offline_code
    # Whole findings, live against the demo's own bundle (not only against a capture of the
    # live run, which shares its blind spots): verdict, confidence and fix text of every finding.
    shipped = livekit.bundle_diagnosis(
        evidence_model.Evidence.of(
            demo.objects, logs=demo.logs, metrics=demo.metrics, incident=incident
        )
    )
    for part in ("findings", "next"):
        whole = livekit.whole
        assert [whole(f) for f in live_doc[part]] == [whole(f) for f in shipped[part]], part
    if name in NEEDS_RECORDED_PROBES:
        return
    expected = json.loads((demos.root() / name / "expected.json").read_text())
    causes = {f["check"] for f in live_doc["findings"] if f["verdict"] == "cause"}
    warnings = {f["check"] for f in live_doc["next"] if f["verdict"] == "warning"}
    assert causes == set(expected["causes"])
    assert set(expected.get("next", [])) <= warnings
