"""A big kubectl List is parsed by worker processes (evidence/parallel.py): the same objects as
parsed here, the same one-line errors naming the file and line, the same node budget.

Each case runs in a process of its own (forked by `clirun.python`): the test runner's own
threads make `parallel.available` refuse to fork (rightly), and the limits are lowered there so
that a small file takes the worker path."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

import clirun

SEED = Path(__file__).resolve().parents[2] / "src" / "paramedic" / "demos" / "seed"

_LOAD = """
import json, sys
from paramedic import errors
from paramedic.evidence import budget, bundle, parallel, yaml_list
yaml_list.CHUNK_BYTES = 2_000
yaml_list.PARALLEL_BYTES = {parallel_bytes}
budget.MAX_NODES = {max_nodes}
assert parallel.available()
try:
    evidence = bundle.load(sys.argv[1])
except errors.BundleError as exc:
    print(json.dumps({{"error": str(exc)}}))
else:
    print(json.dumps({{"objects": evidence.objects}}, sort_keys=True))
"""


def _load(path: Path, *, parallel_bytes: int = 0, max_nodes: int = 24_000_000) -> dict:
    code = _LOAD.format(parallel_bytes=parallel_bytes, max_nodes=max_nodes)
    done = clirun.python(code, str(path), timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _kubectl_list(items: list[dict]) -> str:
    body = yaml.dump(items, Dumper=yaml.CSafeDumper, sort_keys=False)
    return f'apiVersion: v1\nitems:\n{body}kind: List\nmetadata:\n  resourceVersion: ""\n'


def _seed_items(times: int = 1) -> list[dict]:
    """The demo's objects, `times` over, each a separate copy (so YAML needs no aliases)."""
    text = (SEED / "objects.yaml").read_text()
    found = []
    for _ in range(times):
        objects = yaml.load(text, Loader=yaml.CSafeLoader)
        found += objects["items"] if isinstance(objects, dict) else objects
    return found


def test_workers_build_the_same_objects_as_one_process(tmp_path: Path) -> None:
    path = tmp_path / "objects.yaml"
    path.write_text(_kubectl_list(_seed_items(3)))
    in_workers = _load(path)
    in_process = _load(path, parallel_bytes=10**12)
    assert "error" not in in_workers
    assert len(in_workers["objects"]) == 3 * len(_seed_items())
    assert in_workers == in_process


def test_an_error_in_a_slice_a_worker_parsed_names_the_line_of_the_file(tmp_path: Path) -> None:
    lines = _kubectl_list(_seed_items(2)).splitlines()
    broken = max(i for i, line in enumerate(lines) if line.startswith("- ")) + 1
    lines[broken] = "  kind: 'unterminated"
    path = tmp_path / "objects.yaml"
    path.write_text("\n".join(lines) + "\n")
    found = _load(path)
    assert found == _load(path, parallel_bytes=10**12)
    line = int(found["error"].split(": line ")[1].split(":")[0])
    assert broken < line <= broken + 2, found  # where the parser noticed, counted in the file


def test_the_node_budget_holds_for_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "objects.yaml"
    path.write_text(_kubectl_list(_seed_items(3)))
    found = _load(path, max_nodes=1_000)
    assert found["error"] == f"{path}: too many YAML/JSON nodes (over 1,000)"
