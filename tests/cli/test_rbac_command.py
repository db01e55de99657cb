"""`paramedic rbac` prints the RBAC as shipped (the very files deploy/rbac applies) and binds
it, and the optional Roles, to whoever is named: the rules are never rewritten, only the
namespace, the Secrets' names and the subjects filled in. What it prints is read back by
kubectl's own kustomize (which also refuses two objects with the same name)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from clirun import run

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "paramedic" / "rbac"


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _shipped(name: str) -> dict[str, Any]:
    return _docs((SHIPPED / name).read_text())[0]


def _kustomize(directory: Path) -> list[dict[str, Any]]:
    """The objects kubectl's kustomize builds from `directory` (resource ids unique, each
    object well formed), as `kubectl apply -k` would."""
    done = subprocess.run(
        ["kubectl", "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    assert done.returncode == 0, done.stderr
    return _docs(done.stdout)


def _kustomized(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    """`text` as kustomize reads it."""
    (tmp_path / "printed.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text("resources:\n- printed.yaml\n")
    return _kustomize(tmp_path)


def test_alone_it_prints_the_read_only_cluster_role_exactly_as_shipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "rbac")
    assert (code, err) == (0, "")
    assert out == (SHIPPED / "reader.yaml").read_text()  # comments included: why each rule


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_deploy_rbac_applies_the_same_cluster_role(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "rbac")
    assert _kustomize(ROOT / "deploy" / "rbac") == _docs(out)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_each_subject_gets_its_own_bindings_and_each_role_its_namespace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys,
        "rbac",
        *("--user", "alice@corp.example", "--group", "oncall"),
        *("--service-account", "paramedic/paramedic"),
        *("--secret", "app/profile-db-credentials", "--secret", "app/orders-db"),
        *("--secret", "billing/ledger-db", "--secret", "app/orders-db"),
        *("--probe-pod", "app", "--db-probe", "data", "--db-probe", "billing"),
    )
    assert (code, err) == (0, "")
    docs = _kustomized(tmp_path, out)
    by = {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d for d in docs}
    assert len(by) == len(docs)
    roles = {key: d for key, d in by.items() if key[0] in ("ClusterRole", "Role")}
    assert set(roles) == {
        ("ClusterRole", "", "paramedic-reader"),
        ("Role", "app", "paramedic-secrets-reader"),
        ("Role", "billing", "paramedic-secrets-reader"),
        ("Role", "app", "paramedic-probe-pod"),
        ("Role", "data", "paramedic-db-probe"),
        ("Role", "billing", "paramedic-db-probe"),
    }
    assert roles["ClusterRole", "", "paramedic-reader"] == _shipped("reader.yaml")
    secrets = roles["Role", "app", "paramedic-secrets-reader"]["rules"]
    assert [r.pop("resourceNames") for r in secrets] == [["profile-db-credentials", "orders-db"]]
    assert secrets == [
        {k: v for k, v in rule.items() if k != "resourceNames"}
        for rule in _shipped("secrets-reader.yaml")["rules"]
    ]
    assert (
        roles["Role", "app", "paramedic-probe-pod"]["rules"]
        == (_shipped("probe-pod.yaml")["rules"])
    )
    assert (
        roles["Role", "data", "paramedic-db-probe"]["rules"] == (_shipped("db-probe.yaml")["rules"])
    )
    subjects = [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@corp.example"},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oncall"},
        {"kind": "ServiceAccount", "name": "paramedic", "namespace": "paramedic"},
    ]
    for kind, namespace, name in roles:
        bound = [
            d
            for d in docs
            if d["kind"].endswith("Binding")
            and d["roleRef"]
            == {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}
            and d["metadata"].get("namespace", "") == namespace
        ]
        got = sorted((s for b in bound for s in b["subjects"]), key=lambda s: s["kind"])
        assert got == sorted(subjects, key=lambda s: s["kind"]), (kind, namespace, name)
    assert len(docs) == len(roles) * (1 + len(subjects))  # nothing else is granted


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--service-account", "paramedic"), "--service-account 'paramedic': write NAMESPACE/NAME"),
        (("--secret", "app/DB_creds", "--user", "a"), "--secret: 'DB_creds' is not an object name"),
        (("--probe-pod", "App", "--user", "a"), "--probe-pod: 'App' is not a namespace name"),
        (("--user", " "), "--user ' ': give the name the API server knows"),
        (("--db-probe", "data"), "name who gets the Roles: --user, --group or --service-account"),
    ],
)
def test_bad_input_is_one_line_and_prints_nothing(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, "rbac", *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"paramedic: error: {message}"), err
    assert err.count("\n") == 1


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_names_that_read_alike_get_bindings_of_their_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`alice@corp` fits a binding name only as `alice-corp`, which another user may be."""
    who = ["alice@corp", "alice-corp", "Alice-Corp", "system:serviceaccount:ops:bot"]
    _, out, _ = run(capsys, "rbac", *(arg for name in who for arg in ("--user", name)))
    bindings = [d for d in _kustomized(tmp_path, out) if d["kind"] == "ClusterRoleBinding"]
    assert sorted(b["subjects"][0]["name"] for b in bindings) == sorted(who)
    assert len({b["metadata"]["name"] for b in bindings}) == len(who)
