"""Hostile and huge bundles (issue 15, items 2, 3, 4, 10): each is refused with one line naming
the file, or loaded within its bounds, never a crash, a signal or unbounded memory. The CLI
cases run in a child process under a 3 GB address-space limit, as an attacker's file would."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest
import yaml

import clirun
from paramedic import errors
from paramedic.evidence import archive, budget, bundle, logscan, text_files, yaml_list

SEED = Path(__file__).resolve().parents[2] / "src" / "paramedic" / "demos" / "seed"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0", "namespace": "data"}}
DEEP_BLOCK = "- " * 12_000 + "x\n"  # 24 KB: the SIGSEGV of the issue
DEEP_INDENT = "".join(" " * i + "a:\n" for i in range(1_100)) + " " * 1_100 + "b: 1\n"


def _paramedic(*args: str) -> subprocess.CompletedProcess[str]:
    return clirun.subprocess(*args, memory=3_000_000_000)


def _bundle(tmp_path: Path, **files: str | bytes) -> Path:
    root = tmp_path / "bundle"
    shutil.copytree(SEED, root)
    for name, content in files.items():
        target = root / name.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


@pytest.mark.parametrize("text", [DEEP_BLOCK, DEEP_INDENT, "\ufeff" + DEEP_BLOCK])
def test_deep_yaml_objects_file_is_one_line_exit_2_not_a_signal(tmp_path, text):
    path = tmp_path / "objects.yaml"
    path.write_text(text, encoding="utf-8")
    done = _paramedic("diagnose", str(path), "--from", "a", "--to", "b")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert f"{path}: nested too deeply" in done.stderr


@pytest.mark.parametrize("name", ["incident.yaml", "metrics.yaml", "probes.json"])
def test_deep_yaml_in_any_bundle_file_names_that_file(tmp_path, name):
    root = _bundle(tmp_path, **{name: DEEP_BLOCK})
    done = _paramedic("diagnose", str(root))
    assert done.returncode == 2, done.stderr
    assert f"{root}/{name}: nested too deeply" in done.stderr


def test_kubernetes_nesting_is_well_within_the_budget():
    budget.check((SEED / "objects.yaml").read_bytes(), where="objects.yaml")
    nested = yaml.safe_dump({"a": [{"b": [{"c": "x"}]}]} if True else {})
    for _ in range(40):
        nested = "k:\n" + "".join(f"  {line}\n" for line in nested.splitlines())
    budget.check(nested.encode(), where="deep-but-real.yaml")


@pytest.mark.parametrize(
    "text", ["[" + "[]," * 20_000 + "[]]", "a:\n" + "- []\n" * 20_000, "--- 1\n" * 20_000]
)
def test_too_many_nodes_are_refused_before_parsing(tmp_path, monkeypatch, text):
    monkeypatch.setattr(budget, "MAX_WHOLE_YAML_NODES", 10_000)
    monkeypatch.setattr(budget, "MAX_NODES", 10_000)
    path = tmp_path / "objects.yaml"
    path.write_text(text)
    with pytest.raises(errors.BundleError, match=r"objects\.yaml: too many YAML/JSON nodes"):
        bundle.load(path)


def _gnu_long_name_bomb(path: Path, name_bytes: int) -> None:
    """A .tar.gz whose first header is a GNU long name of `name_bytes` bytes (zeros)."""
    header = tarfile.TarInfo("././@LongLink")
    header.type = tarfile.GNUTYPE_LONGNAME
    header.size = name_bytes
    packed = header.tobuf(format=tarfile.USTAR_FORMAT)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        out.write(squeeze.compress(packed))
        chunk = b"\0" * (1024 * 1024)
        for _ in range(name_bytes // len(chunk)):
            out.write(squeeze.compress(chunk))
        out.write(squeeze.flush())


def test_gnu_long_name_header_is_refused_before_it_is_read(tmp_path):
    bomb = tmp_path / "bomb.tar.gz"
    _gnu_long_name_bomb(bomb, 256 * 1024 * 1024)
    done = _paramedic("diagnose", str(bomb), "--from", "a", "--to", "b")
    assert done.returncode == 2, done.stderr
    assert f"{bomb}: archive refused: an extended header of 268435456 bytes" in done.stderr


def test_decompressed_bytes_are_counted_headers_included(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 200 * 1024)
    path = tmp_path / "b.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for i in range(1_000):  # empty files: only headers, 512 bytes each
            tar.addfile(tarfile.TarInfo(f"junk/{i}"), io.BytesIO(b""))
    with pytest.raises(errors.BundleError, match=r"archive refused: expands to more than 200 KiB"):
        bundle.load(path)


def test_sparse_logs_in_a_directory_are_bounded_and_the_rest_is_a_gap(tmp_path):
    root = _bundle(tmp_path)
    pod = root / "logs" / "data" / "profile-db-0"
    for i in range(100):
        with (pod / f"side-{i:03}.log").open("wb") as handle:
            handle.truncate(511 * 1024 * 1024)
    evidence = bundle.load(root)
    kept = [key for key in evidence.logs if key[2].startswith("side-")]
    assert len(kept) < 40
    assert any("log files not read" in str(gap) for gap in evidence.gaps)


def test_a_200k_line_gaps_file_is_bounded(tmp_path):
    root = _bundle(tmp_path, **{"gaps.txt": "cannot list pods in x: forbidden\n" * 200_000})
    evidence = bundle.load(root)
    assert len(evidence.gaps) == text_files.MAX_GAPS + 1
    assert str(evidence.gaps[-1]).startswith("199500 more gaps")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "line",
    [
        "://a:" * 420_000,  # redaction's DSN pattern, quadratic in Python's re
        "pool acquire " + "x" * (2 * 1024 * 1024),  # the pool-timeout signature
    ],
)
def test_a_2_mib_hostile_log_line_is_cut_and_diagnosed(tmp_path, line):
    root = _bundle(tmp_path, **{"logs__app__user-service-7d9f8b6c5d-x2x9k__app.log": line})
    done = _paramedic("diagnose", str(root), "-o", "json")
    assert done.returncode in (0, 1), done.stderr
    evidence = bundle.load(root)
    (kept,) = evidence.logs[("app", "user-service-7d9f8b6c5d-x2x9k", "app")]
    assert len(kept) < logscan.MAX_LINE_CHARS + 100
    assert kept.endswith("characters]")


def test_deep_netpol_expectations_are_one_line_exit_2(tmp_path):
    path = tmp_path / "expectations.yaml"
    path.write_text(DEEP_BLOCK)
    done = _paramedic("netpol", "assert", str(SEED), str(path))
    assert done.returncode == 2, done.stderr
    assert f"{path}: nested too deeply" in done.stderr


@pytest.mark.parametrize("levels", [600, 1_200])
def test_a_deeply_nested_kubeconfig_is_one_line_exit_2_not_an_abort(tmp_path, levels):
    path = tmp_path / "kubeconfig"
    path.write_text("".join(" " * i + "a:\n" for i in range(levels)))
    done = _paramedic("diagnose", "--kubeconfig", str(path), "--from", "a", "--to", "b")
    assert done.returncode == 2, done.stderr
    assert f"{path}: nested more than" in done.stderr
    assert done.stderr.count("\n") == 1


def _kubectl_list(items: list[dict]) -> str:
    """A List as kubectl prints it: items at column 0."""
    body = yaml.dump(items, Dumper=yaml.CSafeDumper, sort_keys=False)
    return f'apiVersion: v1\nitems:\n{body}kind: List\nmetadata:\n  resourceVersion: ""\n'


def test_a_kubectl_list_parsed_in_slices_equals_the_whole_parse(tmp_path, monkeypatch):
    objects = yaml.load((SEED / "objects.yaml").read_text(), Loader=yaml.CSafeLoader)
    items = objects["items"] if isinstance(objects, dict) else objects
    path = tmp_path / "objects.yaml"
    path.write_text(_kubectl_list(items))
    monkeypatch.setattr(yaml_list, "CHUNK_BYTES", 1_000)
    sliced = bundle.load(path).objects
    monkeypatch.setattr(yaml_list, "parse", lambda *a, **k: None)
    assert sliced == bundle.load(path).objects
    assert len(sliced) == len(items)


def test_an_error_in_a_later_slice_names_the_line_of_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_list, "CHUNK_BYTES", 100)
    items = [POD] * 30
    text = _kubectl_list(items)
    lines = text.splitlines()
    broken = max(i for i, line in enumerate(lines) if line.startswith("- ")) + 1
    lines[broken] = "  kind: 'unterminated"
    path = tmp_path / "objects.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.BundleError, match=rf"objects\.yaml: line {broken + 1}"):
        bundle.load(path)


def test_a_dense_kubectl_list_stops_at_the_node_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "MAX_NODES", 5_000)
    monkeypatch.setattr(yaml_list, "CHUNK_BYTES", 2_000)
    path = tmp_path / "objects.yaml"
    path.write_text(_kubectl_list([{"a": [[]] * 50}] * 500))
    with pytest.raises(errors.BundleError, match=r"too many YAML/JSON nodes"):
        bundle.load(path)


def test_deep_nesting_inside_a_kubectl_list_item_is_refused(tmp_path):
    path = tmp_path / "objects.yaml"
    path.write_text("apiVersion: v1\nitems:\n- " + DEEP_BLOCK + "kind: List\n")
    done = _paramedic("diagnose", str(path), "--from", "a", "--to", "b")
    assert done.returncode == 2, done.stderr
    assert f"{path}: nested too deeply" in done.stderr
