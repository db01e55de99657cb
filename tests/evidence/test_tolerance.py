"""Objects no check reads never refuse or change a diagnosis, however they are shaped (13.3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from paramedic import errors
from paramedic.evidence import bundle, demos
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

ODD = [
    {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure", "code": 500},
    {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "status": "ok"},
    {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": "not a mapping"},
    {"kind": "WatchEvent", "type": "ADDED", "object": {}},
    {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"labels": ["a"]}, "spec": 3},
    "a string where an object should be",
]


def _findings(path: Path) -> list[tuple[str, str]]:
    evidence = bundle.load(path)
    assert evidence.incident is not None
    runbook = runbook_model.builtin(evidence.incident.runbook)
    result = engine.run(runbook, evidence, evidence.incident)
    return [(f.check, f.verdict.value) for f in (*result.findings, *result.next)]


def test_odd_objects_of_unread_kinds_change_nothing_and_are_noted(tmp_path: Path) -> None:
    seed = demos.root() / demos.DEFAULT
    objects = list(yaml.safe_load_all((seed / "objects.yaml").read_text()))
    items = [i for doc in objects for i in (doc.get("items", [doc]) if doc else [])]
    for name, extra in (("plain", []), ("odd", ODD)):
        out = tmp_path / name
        out.mkdir()
        (out / "objects.json").write_text(
            json.dumps({"apiVersion": "v1", "kind": "List", "items": [*items, *extra]})
        )
        (out / "incident.yaml").write_text((seed / "incident.yaml").read_text())
    assert _findings(tmp_path / "odd") == _findings(tmp_path / "plain")
    gaps = bundle.load(tmp_path / "odd").gaps
    assert len([g for g in gaps if str(g).startswith("ignored ")]) == 3, gaps


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": "Running"},
         "Pod.status must be a mapping"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": "svc"}, "Service.metadata"),
        ({"kind": "Pod", "metadata": {"name": "p"}}, "object without 'apiVersion'"),
    ],
)  # fmt: skip
def test_odd_objects_of_kinds_the_checks_read_are_one_line(
    tmp_path: Path, obj: dict, problem: str
) -> None:  # type: ignore[type-arg]
    path = tmp_path / "objects.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [obj]}))
    with pytest.raises(errors.BundleError, match=problem):
        bundle.load(path)
