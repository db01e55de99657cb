"""A big dump is read only as far as one diagnosis reads it (evidence/selection.py): the same
findings as reading all of it, for every demo and for a generated cluster dump; items that
cannot be told apart by their text are read; errors in the items read still name their line
and their number in the file's List.

The size threshold is lowered (`yaml_list.PARALLEL_BYTES = 0`) so that small files take the
selective path, and parsing stays in this process (`parallel.available` is False)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import clirun
from clirun import run
from paramedic import errors
from paramedic.evidence import bundle, demos, documents, parallel, selection, yaml_list
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.reports import json_report
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = runbook_model.builtin("db-connectivity")


@pytest.fixture
def small_is_big(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_list, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel, "available", lambda: False)


def _kubectl_list(items: list[dict]) -> str:
    """A v1 List as kubectl prints it: items from column 0, keys sorted, lists not indented."""
    body = yaml.dump(items, Dumper=yaml.CSafeDumper, sort_keys=True)
    return f'apiVersion: v1\nitems:\n{body}kind: List\nmetadata:\n  resourceVersion: ""\n'


def _report(evidence: evidence_model.Evidence, incident: evidence_model.Incident) -> dict:
    found = json.loads(json_report.render(engine.run(RUNBOOK, evidence, incident)))
    found.pop("provenance", None)
    return found


def _pinned(evidence: evidence_model.Evidence) -> evidence_model.Incident:
    """The demo's incident with the namespace it resolves to, as `-n` would give it."""
    assert evidence.incident is not None
    scope = resolve.resolve(evidence, evidence.incident, default_port=RUNBOOK.default_port)
    return dataclasses.replace(evidence.incident, namespace=scope.namespace)


@pytest.mark.usefixtures("small_is_big")
@pytest.mark.parametrize("name", [d.name for d in demos.available()])
def test_every_demo_finds_the_same_with_only_what_it_reads(name: str, tmp_path: Path) -> None:
    full = demos.load(name)
    incident = _pinned(full)
    select = engine.reads(RUNBOOK, incident)
    assert select is not None
    path = tmp_path / "objects.yaml"
    path.write_bytes(_kubectl_list(_with_copies(full.objects)).encode())
    read = documents.parse_objects(path.read_bytes(), where=str(path), select=select)
    every = documents.parse_objects(path.read_bytes(), where=str(path))
    assert len(read) < len(every)
    assert _report(_like(full, read), incident) == _report(_like(full, every), incident)


def _with_copies(objects: tuple[dict, ...]) -> list[dict]:
    """The objects, and a copy of each namespaced one in namespace `copy-NS` (with its
    Namespace): a cluster with more in it than the incident's namespaces."""
    copies = []
    for namespace in sorted(
        {o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]}
    ):
        copies.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"copy-{namespace}"}}
        )
    for obj in objects:
        meta = obj["metadata"]
        if "namespace" in meta:
            copy = json.loads(json.dumps(obj))  # no shared parts: no YAML aliases
            copy["metadata"]["namespace"] = f"copy-{meta['namespace']}"
            copies.append(copy)
    return [*(dict(o) for o in objects), *copies]


def _like(demo: evidence_model.Evidence, objects: list) -> evidence_model.Evidence:
    """The demo's evidence (logs, probes, cloud files...) with these objects."""
    return evidence_model.Evidence.of(
        objects,
        logs=demo.logs,
        metrics=demo.metrics,
        probes=demo.probes,
        incident=demo.incident,
        gaps=demo.gaps,
        cloud=demo.cloud,
        flows=demo.flows,
    )


def test_a_generated_cluster_dump_gives_the_same_reports(tmp_path: Path) -> None:
    """benchmarks/gen_dump.py's cluster (the benchmark's dump, smaller): every incident below
    reads a few of its 30 namespaces and finds exactly what the full load finds."""
    path = tmp_path / "dump.yaml"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/gen_dump.py"), "3000", str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    code = _COMPARE.format(src=str(ROOT / "src"))
    done = clirun.python(code, str(path), timeout=300)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        incident, read, total, same = line.split("|")
        assert same == "True", incident
        assert 0 < int(read) < int(total) * 0.6, line  # most Pods (9/10 of the bytes) not read


_COMPARE = """
import json, sys
sys.path.insert(0, {src!r})
from paramedic import errors
from paramedic.evidence import bundle, model, yaml_list
from paramedic.reports import json_report
from paramedic.runbooks import engine, model as runbook_model
yaml_list.PARALLEL_BYTES = 0
runbook = runbook_model.builtin("db-connectivity")
full = bundle.load(sys.argv[1])
def report(evidence, incident):
    try:
        return json_report.render(engine.run(runbook, evidence, incident))
    except errors.IncidentError as exc:
        return str(exc)
for source, target, ns in (
    ("svc-0", "svc-1", "team-000"),
    ("svc-1", "svc-0.team-002", "team-001"),
    ("deployment/svc-2", "svc/svc-0", "team-003"),
    ("app=svc-0", "svc-1.team-004.svc.cluster.local:80", "team-004"),
    ("svc-0", "db", "team-002"),
):
    incident = model.Incident(source=source, target=target, port=None, namespace=ns)
    select = engine.reads(runbook, incident)
    part = bundle.load(sys.argv[1], select=select)
    same = report(part, incident) == report(full, incident)
    print(f"{{source}}->{{target}}|{{len(part.objects)}}|{{len(full.objects)}}|{{same}}")
"""


def _item(kind: str, name: str, namespace: str | None, **rest: object) -> dict:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "v1", "kind": kind, "metadata": meta, **rest}


SELECT = selection.Selection.of(engine.needs(RUNBOOK), {"app"})


@pytest.mark.usefixtures("small_is_big")
def test_only_plain_items_of_local_kinds_elsewhere_are_left_out(tmp_path: Path) -> None:
    items = [
        _item("Pod", "kept", "app"),
        _item("Pod", "elsewhere", "other"),
        _item("ReplicaSet", "rs-elsewhere", "other"),
        _item("Pod", "dns", "kube-system"),
        _item("Node", "n1", None),
        _item("Service", "svc-elsewhere", "other"),
        _item("Event", "event-elsewhere", "other"),
    ]
    odd = (
        '- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: quoted\n    namespace: "other"\n'
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: deep\n  spec:\n"
        "    namespace: other\n"
        "- kind: Pod\n  metadata:\n    namespace: other\n    name: first-line\n"
    )
    path = tmp_path / "objects.yaml"
    path.write_text(_kubectl_list(items).replace("items:\n", "items:\n" + odd, 1))
    names = {o["metadata"]["name"] for o in bundle.load(path, select=SELECT).objects}
    assert names == {"quoted", "deep", "kept", "dns", "n1", "svc-elsewhere", "event-elsewhere"}
    # a cluster-wide policy's fix reaches every namespace: its blast radius needs every Pod
    admin = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy"}
    path.write_text(_kubectl_list([*items, {**admin, "metadata": {"name": "a"}, "spec": {}}]))
    names = {o["metadata"]["name"] for o in bundle.load(path, select=SELECT).objects}
    assert {"elsewhere", "a"} <= names
    assert "rs-elsewhere" not in names


@pytest.mark.usefixtures("small_is_big")
def test_errors_in_items_read_name_their_line_and_number_those_left_out_are_not_read(
    tmp_path: Path,
) -> None:
    items = [_item("Pod", f"p{i}", "other" if i % 2 else "app") for i in range(6)]
    lines = _kubectl_list(items).splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("- ")]
    lines[starts[1] + 1] = "  kind: Pod\n  spec: 'unterminated"  # item 1: in `other`, not read
    path = tmp_path / "objects.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert len(bundle.load(path, select=SELECT).objects) == 3
    with pytest.raises(errors.BundleError):
        bundle.load(path)
    items[4]["metadata"]["labels"] = ["not", "a", "mapping"]
    path.write_text(_kubectl_list(items))
    with pytest.raises(errors.BundleError, match=r"document 1, item 4: Pod.metadata.labels"):
        bundle.load(path, select=SELECT)


def test_reads_everything_when_the_incident_does_not_say_where() -> None:
    def reads(source: str, target: str, namespace: str | None) -> selection.Selection | None:
        incident = evidence_model.Incident(
            source=source, target=target, port=None, namespace=namespace
        )
        return engine.reads(RUNBOOK, incident)

    assert reads("api", "db", None) is None  # the source's namespace is guessed from the dump
    assert reads("api", "10.0.0.7:5432", "app") is None  # any namespace may hold the address
    found = reads("shop/api", "db.data:5432", None)
    assert found is not None
    assert found.namespaces == {"shop", "data", "kube-system", "default"}
    assert {"AdminNetworkPolicy", "GlobalNetworkPolicy"} <= found.widening
    assert "NetworkPolicy" not in found.widening


@pytest.mark.usefixtures("small_is_big")
def test_diagnose_reads_the_incidents_part_of_a_big_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`paramedic diagnose DUMP -n NS`: a Pod of another namespace is never parsed (here it is
    broken, and only a full load says so); without the namespace everything is read."""
    items = [dict(o) for o in demos.load("seed").objects]
    lines = _kubectl_list([*items, _item("Pod", "other-pod", "other")]).splitlines()
    at = lines.index("    name: other-pod")
    lines[at] = "    name: 'unterminated"
    path = tmp_path / "dump.yaml"
    path.write_text("\n".join(lines) + "\n")
    asked = ("diagnose", str(path), "--from", "user-service", "--to", "profile-db.data:5432")
    code, out, err = run(capsys, *asked, "-n", "app", "-o", "json")
    assert code == 1, err
    assert json.loads(out)["findings"]
    code, out, err = run(capsys, *asked)
    assert code == 2
    assert (
        f"{path}: line {at + 2}: invalid YAML" in err
        or f"{path}: line {at + 1}: invalid YAML" in err
    ), err
    # the same objects as a bundle folder: read in part too, unless an incident.yaml (which may
    # name another incident or runbook) is beside them
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "objects.yaml").write_text(path.read_text())
    asked = ("diagnose", str(folder), "--from", "user-service", "--to", "profile-db.data:5432")
    assert run(capsys, *asked, "-n", "app")[0] == 1
    (folder / "incident.yaml").write_text("source: user-service\ntarget: profile-db.data:5432\n")
    code, out, err = run(capsys, *asked, "-n", "app")
    assert code == 2
    assert "invalid YAML" in err, err
