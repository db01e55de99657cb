"""The bundle loader: every accepted shape of DESIGN.md §2, and every bad input as one
BundleError line naming the file."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest
import yaml

from paramedic import errors
from paramedic.evidence import bundle, sources, text_files

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "profile-db-0", "namespace": "data"}}
SVC = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "profile-db", "namespace": "data"},
}
WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w", "namespace": "data"},
}
SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "creds", "namespace": "app"},
    "data": {"password": "czNjcjN0"},
}
INCIDENT = "source: user-service\nnamespace: app\ntarget: profile-db.data\nport: 5432\n"
PROBES = {
    "schema": "paramedic.probes/v1",
    "probes": [
        {
            "kind": "postgres",
            "target": "profile-db.data.svc.cluster.local:5432",
            "outcome": "auth-failed",
            "elapsed_ms": 12.5,
            "data": {
                "user": "user_service",
                "database": "profiles",
                "server_message": 'password authentication failed for user "user_service"',
            },
        }
    ],
}
METRICS = {
    "kind": "PodMetricsList",
    "apiVersion": "metrics.k8s.io/v1beta1",
    "metadata": {},
    "items": [
        {
            "metadata": {"name": "profile-db-0", "namespace": "data"},
            "timestamp": "2026-11-26T03:20:00Z",
            "window": "15s",
            "containers": [{"name": "postgres", "usage": {"cpu": "1950m", "memory": "1990Mi"}}],
        }
    ],
}


def kinds(evidence):
    return [o["kind"] for o in evidence.objects]


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def make_tar(path: Path, files: dict[str, str | bytes], prefix: str = "") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for rel, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(prefix + rel)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


FULL = {
    "objects.yaml": yaml.safe_dump_all([POD, SVC, WIDGET]),
    "metrics.json": json.dumps(METRICS),
    "probes.json": json.dumps(PROBES),
    "incident.yaml": INCIDENT,
    "logs/data/profile-db-0/postgres.log": (
        "LOG:  database system is ready\nFATAL:  password authentication failed\n"
    ),
    "logs/data/profile-db-0/postgres.previous.log": "LOG:  terminated by signal 9: Killed\n",
}


def check_full(evidence):
    assert kinds(evidence) == ["Pod", "Service", "Widget"]
    assert evidence.incident is not None and evidence.incident.target == "profile-db.data"
    assert evidence.incident.port == 5432
    assert [p.outcome for p in evidence.probes_of("postgres")] == ["auth-failed"]
    assert evidence.probes[0].data["user"] == "user_service"
    assert [m["kind"] for m in evidence.metrics] == ["PodMetrics"]
    assert evidence.metrics[0]["containers"][0]["usage"]["memory"] == "1990Mi"
    logs = evidence.pod_logs("data", "profile-db-0")
    assert logs["postgres"][1] == "FATAL:  password authentication failed"
    assert logs["postgres (previous)"] == ("LOG:  terminated by signal 9: Killed",)


def test_directory_bundle_reads_objects_metrics_probes_incident_and_logs(tmp_path):
    check_full(bundle.load(write(tmp_path, FULL)))


@pytest.mark.parametrize("prefix", ["", "incident-42/", "./"])
def test_tar_gz_bundle_with_or_without_a_top_folder(tmp_path, prefix):
    check_full(bundle.load(make_tar(tmp_path / "b.tar.gz", FULL, prefix=prefix)))


def test_tgz_suffix_is_a_bundle_too(tmp_path):
    assert kinds(bundle.load(make_tar(tmp_path / "b.tgz", {"objects.json": json.dumps(POD)}))) == [
        "Pod"
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("dump.yaml", yaml.safe_dump(POD), ["Pod"]),
        ("dump.yml", yaml.safe_dump_all([POD, SVC]), ["Pod", "Service"]),
        ("dump.json", json.dumps(POD), ["Pod"]),
        (
            "dump.json",
            json.dumps({"apiVersion": "v1", "kind": "List", "items": [POD, SVC]}),
            ["Pod", "Service"],
        ),
        (
            "dump.yaml",
            yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [POD, WIDGET]}),
            ["Pod", "Widget"],
        ),
        (
            "dump.yaml",
            yaml.safe_dump_all([{"apiVersion": "v1", "kind": "List", "items": [POD]}, None, SVC]),
            ["Pod", "Service"],
        ),
        (
            "podlist.json",
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "PodList",
                    "metadata": {"resourceVersion": "1"},
                    "items": [{"metadata": {"name": "a", "namespace": "data"}}],
                }
            ),
            ["Pod"],
        ),
        (
            "nested.yaml",
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "List",
                    "items": [{"apiVersion": "v1", "kind": "List", "items": [POD]}, SVC],
                }
            ),
            ["Pod", "Service"],
        ),
        ("empty-list.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": []}), []),
        ("json-as-yaml.yaml", json.dumps(POD), ["Pod"]),
        ("bom.yaml", "\ufeff" + yaml.safe_dump(POD), ["Pod"]),
    ],
)
def test_single_file_lists_and_multi_documents_are_flattened(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert kinds(bundle.load(path)) == expected


def test_kubectl_get_json_output_keeps_items_as_printed(tmp_path):
    dump = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [
            {**POD, "status": {"phase": "Running", "podIP": "10.244.2.31"}},
            {**SVC, "spec": {"selector": {"app": "profile-db"}, "ports": [{"port": 5432}]}},
        ],
    }
    path = tmp_path / "all.json"
    path.write_text(json.dumps(dump, indent=4))
    evidence = bundle.load(path)
    assert evidence.get("Pod", "data", "profile-db-0")["status"]["podIP"] == "10.244.2.31"
    assert evidence.get("Service", "data", "profile-db")["spec"]["ports"] == [{"port": 5432}]


def test_podlist_items_get_kind_and_api_version_of_the_list(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": {"name": "a"}}]})
    )
    (pod,) = bundle.load(path).objects
    assert (pod["apiVersion"], pod["kind"]) == ("v1", "Pod")


def test_unknown_kinds_are_kept(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(yaml.safe_dump(WIDGET))
    assert bundle.load(path).get("Widget", "data", "w") == WIDGET


def test_secret_values_never_survive_loading(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(yaml.safe_dump(SECRET))
    (secret,) = bundle.load(path).objects
    assert secret["data"]["password"].startswith("hmac:")
    assert "czNjcjN0" not in json.dumps(secret)


def test_provenance_names_the_bundle(tmp_path):
    assert (
        bundle.load(write(tmp_path, {"objects.json": json.dumps(POD)})).provenance
        == f"bundle {tmp_path}"
    )


def test_long_logs_keep_their_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(text_files, "MAX_LOG_BYTES", 20)
    logs = "\n".join(f"line {i}" for i in range(100)) + "\n"
    evidence = bundle.load(
        write(tmp_path, {"objects.yaml": yaml.safe_dump(POD), "logs/data/p/c.log": logs})
    )
    kept = evidence.pod_logs("data", "p")["c"]
    assert kept[-1] == "line 99"
    assert "line 0" not in kept and len(kept) <= 3


# --- bad input: one BundleError line naming the file --------------------------------------------


def bad_yaml_file(tmp_path):
    path = tmp_path / "objects.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n")
    return path


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n"},
            r"objects\.yaml: line \d+: invalid YAML",
        ),
        ({"objects.yaml": "a: b\n  c: d\n"}, r"objects\.yaml: line 2: invalid YAML"),
        (
            {"objects.json": '{"apiVersion": "v1",\n "kind": }'},
            r"objects\.json: line 2: invalid JSON",
        ),
        (
            {"objects.yaml": "- 1\n- 2\n"},
            r"objects\.yaml: document 1: expected a Kubernetes object, got a list",
        ),
        (
            {"objects.yaml": "just a string\n"},
            r"objects\.yaml: document 1: expected a Kubernetes object, got a string",
        ),
        (
            {"objects.yaml": "kind: Pod\nmetadata: {name: a}\n"},
            r"objects\.yaml: document 1: object without 'apiVersion'",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nmetadata: {name: a}\n"},
            r"objects\.yaml: document 1: object without 'kind'",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: List\nitems: [{kind: Pod}]\n"},
            r"objects\.yaml: document 1, item 0: object without 'apiVersion'",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: List\nitems: {a: 1}\n"},
            r"List\.items must be a list",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\nmetadata: [a]\n"},
            r"Pod\.metadata must be a mapping",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: 5}\n"},
            r"Pod\.metadata\.name must be a string",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {labels: [a]}\n"},
            r"labels must be a mapping",
        ),
        ({"objects.yaml": "apiVersion: v1\nkind: Pod\nspec: 7\n"}, r"Pod\.spec must be a mapping"),
        ({"objects.yaml": b"\xff\xfe\x00garbage"}, r"objects\.yaml: not UTF-8 text"),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\n", "incident.yaml": "source: [\n"},
            r"incident\.yaml: line \d+: invalid YAML",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\n", "incident.yaml": "source: a\n"},
            r"incident\.yaml: field 'target' must be a non-empty string",
        ),
        (
            {
                "objects.yaml": "apiVersion: v1\nkind: Pod\n",
                "incident.yaml": "source: a\ntarget: b\nport: 0\n",
            },
            r"incident\.yaml: field 'port' must be 1-65535",
        ),
        (
            {
                "objects.yaml": "apiVersion: v1\nkind: Pod\n",
                "incident.yaml": "source: a\ntarget: b\ncolour: red\n",
            },
            r"incident\.yaml: unknown field 'colour'",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\n", "probes.json": "{"},
            r"probes\.json: line 1: invalid JSON",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\n", "probes.json": '{"schema": "x"}'},
            r"probes\.json: expected an object with \"schema\"",
        ),
        (
            {
                "objects.yaml": "apiVersion: v1\nkind: Pod\n",
                "probes.json": '{"schema": "paramedic.probes/v1", "probes": [{"kind": "tcp"}]}',
            },
            r"probes\.json: probes\[0\] needs kind, target, outcome",
        ),
        (
            {"objects.yaml": "apiVersion: v1\nkind: Pod\n", "metrics.yaml": "items: [\n"},
            r"metrics\.yaml: line \d+",
        ),
        ({"logs/data/p/c.log": "x\n"}, r"no objects\.yaml or objects\.json"),
    ],
)
def test_bad_bundle_content_is_one_line_naming_the_file(tmp_path, files, message):
    root = write(tmp_path / "b", files)
    for target in (root, make_tar(tmp_path / "b.tar.gz", files)):
        with pytest.raises(errors.BundleError, match=message) as info:
            bundle.load(target)
        text = str(info.value)
        assert "\n" not in text
        assert str(target) in text


def test_empty_directory_says_what_is_missing(tmp_path):
    with pytest.raises(errors.BundleError, match=f"^{tmp_path}: no objects.yaml or objects.json"):
        bundle.load(tmp_path)


def test_missing_path_is_one_line(tmp_path):
    with pytest.raises(errors.BundleError, match="no such file or directory"):
        bundle.load(tmp_path / "nope")


def test_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all([POD] * 100))
    for target in (path, tmp_path):
        with pytest.raises(errors.BundleError, match=f"{path}: [0-9] KiB is over the 1 KiB limit"):
            bundle.load(target)


def test_huge_archive_member_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1024)
    archive = make_tar(tmp_path / "b.tar.gz", {"objects.yaml": yaml.safe_dump_all([POD] * 100)})
    with pytest.raises(errors.BundleError, match=r"objects\.yaml: 8 KiB is over the 1 KiB limit"):
        bundle.load(archive)


@pytest.mark.parametrize("name", ["../objects.yaml", "/etc/objects.yaml", "b/../../objects.yaml"])
def test_tarball_entries_outside_the_bundle_are_refused(tmp_path, name):
    archive = make_tar(tmp_path / "b.tar.gz", {name: yaml.safe_dump(POD)})
    with pytest.raises(errors.BundleError, match="points outside the bundle"):
        bundle.load(archive)


@pytest.mark.parametrize("link_type", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_tarball_links_are_refused(tmp_path, link_type):
    archive = tmp_path / "b.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("objects.yaml")
        info.type = link_type
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(errors.BundleError, match=r"'objects\.yaml' is a link"):
        bundle.load(archive)


def test_tarball_special_files_are_refused(tmp_path):
    archive = tmp_path / "b.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("objects.yaml")
        info.type = tarfile.FIFOTYPE
        tar.addfile(info)
    with pytest.raises(errors.BundleError, match="is not a regular file"):
        bundle.load(archive)


@pytest.mark.parametrize("content", [b"", b"not a tar at all", b"\x1f\x8b\x08\x00garbage-gzip"])
def test_unreadable_archive_is_one_line(tmp_path, content):
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(content)
    with pytest.raises(errors.BundleError, match="not a readable tar archive"):
        bundle.load(archive)


def test_truncated_archive_is_one_line(tmp_path):
    archive = make_tar(tmp_path / "b.tar.gz", {"objects.yaml": yaml.safe_dump_all([POD] * 200)})
    archive.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(errors.BundleError, match="not a readable tar archive"):
        bundle.load(archive)


@pytest.mark.parametrize("rel", ["objects.yaml", "logs/data/p/c.log", "incident.yaml"])
def test_symlinks_in_a_directory_bundle_are_refused(tmp_path, rel):
    root = write(
        tmp_path / "b", {"objects.yaml": yaml.safe_dump(POD)} if rel != "objects.yaml" else {}
    )
    outside = write(tmp_path, {"outside.txt": yaml.safe_dump(POD)}) / "outside.txt"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).symlink_to(outside)
    with pytest.raises(errors.BundleError, match=f"{root / rel}: is a symbolic link"):
        bundle.load(root)


@pytest.mark.parametrize("rel", ["objects.yaml", "logs/data/p/c.log", "metrics.json"])
def test_fifo_in_a_directory_bundle_is_refused_without_hanging(tmp_path, rel):
    root = write(
        tmp_path / "b", {"objects.yaml": yaml.safe_dump(POD)} if rel != "objects.yaml" else {}
    )
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / rel)
    with pytest.raises(errors.BundleError, match=f"{root / rel}: not a regular file"):
        bundle.load(root)


def test_fifo_given_directly_is_refused(tmp_path):
    os.mkfifo(tmp_path / "objects.yaml")
    with pytest.raises(errors.BundleError, match="not a regular file or directory"):
        bundle.load(tmp_path / "objects.yaml")


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000,
        '{"a":' * 100_000,
        "- " * 5_000 + "x",
        "a: &a [*a]\n",
        "!!python/object/apply:os.system ['true']\n",
    ],
    ids=["deep-json-list", "deep-json-object", "deep-yaml", "recursive-alias", "python-tag"],
)
def test_hostile_documents_give_a_bundle_error(tmp_path, content):
    for name in ("objects.yaml", "objects.json"):
        path = tmp_path / name
        path.write_text(content)
        with pytest.raises(errors.BundleError, match=name):
            bundle.load(path)
