"""deploy/: the read-only ClusterRole binds nobody by itself; the CLI user is bound with the
documented command or the group overlay, the ServiceAccount only for in-cluster use. Built
with kubectl's own kustomize, as `kubectl apply -k` would."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _build(directory: str) -> list[dict]:  # type: ignore[type-arg]
    done = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _subjects(docs: list[dict]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [
        (s["kind"], s["name"])
        for d in docs
        if d["kind"] == "ClusterRoleBinding"
        for s in d["subjects"]
    ]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_each_kustomization_binds_the_reader_to_whom_it_says() -> None:
    base = _build("deploy/rbac")
    assert [d["kind"] for d in base] == ["ClusterRole"]
    assert _subjects(_build("deploy/user")) == [("Group", "paramedic:readers")]
    assert _subjects(_build("deploy/in-cluster")) == [("ServiceAccount", "paramedic")]


def test_every_documented_shell_command_parses() -> None:
    """README, docs and deploy/user/README.md: every ```sh block passes `bash -n`."""
    files = [ROOT / "README.md", ROOT / "deploy" / "user" / "README.md", *ROOT.glob("docs/*.md")]
    for path in files:
        for block in re.findall(r"^```sh\n(.*?)^```$", path.read_text(), re.DOTALL | re.MULTILINE):
            done = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
            assert done.returncode == 0, f"{path.name}: {done.stderr}\n{block}"
