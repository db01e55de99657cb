"""No secret fragment leaves the process: hostile evidence full of known secret markers, diagnosed
live and from a bundle in every format and captured as a directory and an archive; every byte
printed and every byte written is searched for every marker (and its base64 form)."""

from __future__ import annotations

import base64
import copy
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from paramedic.evidence import demos

from . import fakeapi, livekit

M = {n: f"Zq{n:02d}Lk{n * 7919 % 1000:03d}" for n in range(1, 21)}
"""Secret markers: unique strings that appear nowhere else."""

ARGS = ("--from", "user-service", "-n", "app", "--to", "profile-db.data:5432")


def _plant(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` with credentials planted wherever a cluster may hold them."""
    obj = copy.deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    annotations = meta.setdefault("annotations", {})
    annotations["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {"env": [{"name": "DB_PASSWORD", "value": M[1]}]}
    )
    annotations["example.com/dsn"] = f"postgresql://app:{M[2]}@profile-db.data/p"
    kind = obj.get("kind")
    if kind == "Secret":
        obj["data"] = {k: base64.b64encode(M[3].encode()).decode() for k in obj.get("data", {})}
    if kind == "ConfigMap" or (kind == "Namespace" and meta.get("name") == "app"):
        obj.setdefault("data", {})
    spec = obj.get("spec") or {}
    template = spec.get("template", {}).get("spec") if kind != "Pod" else spec
    for c in (template or {}).get("containers", []):
        c.setdefault("env", []).extend(
            [
                {"name": "DB_PASSWORD_LITERAL", "value": M[4]},
                {"name": "API_TOKEN", "value": M[5]},
                {"name": "DATABASE_URL",
                 "value": f"postgresql://user_service:{M[6]}/{M[7]}@profile-db.data:5432/p"},
                {"name": "EXTRA", "value": f"--password={M[8]}"},
            ]
        )  # fmt: skip
        c["args"] = [f"--db-password={M[9]}", f"Authorization: Bearer {M[10]}"]
        c["readinessProbe"] = {
            "exec": {"command": ["sh", "-c", f"PGPASSWORD={M[11]} pg_isready -h localhost"]},
            "periodSeconds": 10,
        }
    return obj


def _config_map() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app-settings", "namespace": "app"},
        "data": {
            "db-password": M[12],
            "application.properties": f"spring.datasource.password={M[13]}\nport=5432\n",
        },
    }


def _event() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "leaky.1", "namespace": "app"},
        "involvedObject": {"kind": "Pod", "name": "user-service", "namespace": "app"},
        "reason": "BackOff",
        "type": "Warning",
        "message": f"connect postgresql://app:{M[14]}@profile-db.data/p: refused",
    }


LOG_LINES = (
    f"2026-11-26 03:00:01 UTC LOG:  statement: ALTER ROLE user_service PASSWORD '{M[15]}'",
    f'{{"level":"error","password":"{M[16]}","msg":"password authentication failed"}}',
    f"retrying with DB_PASS={M[17]} and token={M[18]}",
    f"dsn=postgresql://:{M[19]}@profile-db.data/p FATAL:  too many clients already",
    f"curl -H 'Authorization: Basic {M[20]}' http://api",
)


def _hostile() -> tuple[list[dict[str, Any]], dict[tuple[str, str, str], tuple[str, ...]]]:
    objects = [_plant(o) for o in livekit.seed_objects()] + [_config_map(), _event()]
    seed = demos.load(demos.DEFAULT)
    logs = {key: (*lines, *LOG_LINES) for key, lines in seed.logs.items()}
    return objects, logs


def _forbidden() -> list[bytes]:
    values = [m.encode() for m in M.values()]
    return values + [base64.b64encode(v) for v in values]


def _assert_clean(where: str, blob: bytes) -> None:
    found = [v.decode() for v in _forbidden() if v in blob]
    assert found == [], f"{where} leaks {found}"


@pytest.fixture
def hostile_server() -> Any:
    objects, logs = _hostile()
    with fakeapi.FakeApiServer(objects, logs=logs) as srv:
        yield srv


@pytest.mark.parametrize("output", ["text", "json", "markdown", "html"])
def test_live_diagnosis_prints_no_secret_fragment(
    capsys: pytest.CaptureFixture[str],
    hostile_server: fakeapi.FakeApiServer,
    tmp_path: Path,
    output: str,
) -> None:
    config = hostile_server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
    code, out, err = livekit.run(
        capsys, "diagnose", *ARGS, "--kubeconfig", str(config), "-o", output
    )
    assert code in (0, 1), err
    _assert_clean(f"diagnose -o {output}", (out + err).encode())


def test_capture_writes_no_secret_fragment_and_its_diagnosis_prints_none(
    capsys: pytest.CaptureFixture[str], hostile_server: fakeapi.FakeApiServer, tmp_path: Path
) -> None:
    config = hostile_server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
    directory, archive = tmp_path / "dir-bundle", tmp_path / "bundle.tgz"
    for out in (directory, archive):
        code, stdout, err = livekit.run(
            capsys, "capture", *ARGS, "--kubeconfig", str(config), str(out)
        )
        assert code == 0, err
        _assert_clean("capture's own output", (stdout + err).encode())
    for path in directory.rglob("*"):
        if path.is_file():
            _assert_clean(str(path.relative_to(directory)), path.read_bytes())
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            if handle is not None:
                _assert_clean(member.name, handle.read())
    for output in ("text", "json", "markdown", "html"):
        code, out, err = livekit.run(capsys, "diagnose", str(directory), "-o", output)
        assert code in (0, 1), err
        _assert_clean(f"diagnose of the capture -o {output}", (out + err).encode())


@pytest.mark.parametrize("output", ["text", "json", "markdown", "html"])
def test_a_hostile_bundle_made_with_kubectl_prints_no_secret_fragment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, output: str
) -> None:
    objects, logs = _hostile()
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "objects.yaml").write_text(
        yaml.dump({"apiVersion": "v1", "kind": "List", "items": objects}, Dumper=yaml.CSafeDumper)
    )
    (bundle / "gaps.txt").write_text(f"cannot read secrets: password={M[1]}\n")
    for (ns, pod, container), lines in logs.items():
        path = bundle / "logs" / ns / pod / f"{container}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    code, out, err = livekit.run(capsys, "diagnose", str(bundle), *ARGS, "-o", output)
    assert code in (0, 1), err
    _assert_clean(f"diagnose BUNDLE -o {output}", (out + err).encode())
