"""Every built-in Kubernetes kind, fully populated with odd values (`builtin_objects`), neither
changes a diagnosis it is added to nor crashes one made of nothing else (issue 13, item 3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import clirun
from paramedic.evidence import bundle, demos
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import builtin_objects


def _bystanders() -> list[dict[str, object]]:
    """Every kind but Node: a Node is not a bystander (it joins the cluster, and a fix to run on
    every node names it too)."""
    return [o for o in builtin_objects.fixtures() if o["kind"] != "Node"]


def _diagnose(path: Path) -> tuple[object, ...]:
    evidence = bundle.load(path)
    assert evidence.incident is not None
    runbook = runbook_model.builtin(evidence.incident.runbook)
    result = engine.run(runbook, evidence, evidence.incident)
    return (result.findings, result.next, result.errors)


def test_the_fixtures_cover_the_built_in_api() -> None:
    kinds = {(o["apiVersion"], o["kind"]) for o in builtin_objects.fixtures()}
    for wanted in [
        ("v1", "Pod"),
        ("v1", "Secret"),
        ("v1", "Node"),
        ("apps/v1", "Deployment"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("discovery.k8s.io/v1", "EndpointSlice"),
    ]:
        assert wanted in kinds
    assert len(kinds) >= 80
    pod = next(o for o in builtin_objects.fixtures() if o["kind"] == "Pod")
    container = pod["spec"]["containers"][0]
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "nameValue"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1


@pytest.mark.parametrize("name", [d.name for d in demos.available()])
def test_adding_every_built_in_kind_changes_no_finding(tmp_path: Path, name: str) -> None:
    plain = _copy(name, tmp_path / "plain", [])
    assert _diagnose(_copy(name, tmp_path / "crowded", _bystanders())) == _diagnose(plain)


def test_a_node_that_joins_is_named_in_the_fix_run_on_every_node(tmp_path: Path) -> None:
    node = [o for o in builtin_objects.fixtures() if o["kind"] == "Node"]
    findings, *_ = _diagnose(_copy("coredns-down", tmp_path / "joined", node))
    (dns,) = [f for f in findings if f.check == "dns"]
    assert dns.fix is not None
    assert "On each node (nameValue, node-a, node-b)" in dns.fix.steps[0].description


def _copy(name: str, to: Path, extra: list[dict[str, object]]) -> Path:
    shutil.copytree(demos.root() / name, to)
    objects = to / "objects.yaml"
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": extra})
    objects.write_text(objects.read_text() + "\n---\n" + listed + "\n")
    return to


def test_without_an_incident_a_bundle_of_them_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "objects.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": builtin_objects.fixtures()})
    )
    done = clirun.subprocess("diagnose", str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_bundle_of_only_these_objects_is_diagnosed_without_a_crash(
    tmp_path: Path, output: str
) -> None:
    """The objects are the incident: `nameValue` in `namespaceValue` is both ends, so every check
    reads the odd values (a Secret key named `secretKeyRefValue`, a port named `portValue`)."""
    (tmp_path / "objects.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": builtin_objects.fixtures()})
    )
    done = clirun.subprocess(
        "diagnose", str(tmp_path), "-n", "namespaceValue", "--from", "nameValue",
        "--to", "nameValue", "--port", "5432", "-o", output,
    )  # fmt: skip
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) <= 1, done.stderr
    if done.returncode != 2:
        assert "internal error" not in done.stdout + done.stderr
        assert done.stdout.strip()
