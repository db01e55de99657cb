"""Inside a pod (no kubeconfig): the service account's token, CA and namespace, over HTTPS."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import clirun
from paramedic.gather import kubeapi

from . import fakeapi
from .livekit import gather, seed_server


@pytest.fixture
def service_account(tmp_path: Path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on PATH (needed to make the test API server's certificate)")
    account = tmp_path / "serviceaccount"
    account.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=kubernetes",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(account / "ca.crt"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (account / "token").write_text("service-account-token")
    (account / "namespace").write_text("app")
    return account


@pytest.fixture
def in_pod(
    service_account: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[fakeapi.FakeApiServer]:
    """This process as if in a pod: no kubeconfig, the API server over HTTPS at
    KUBERNETES_SERVICE_HOST/PORT, the service account's token, CA and namespace files."""
    from kubernetes.config import incluster_config

    with seed_server(tls=(service_account / "ca.crt", tmp_path / "key.pem")) as server:
        port = server.url.rsplit(":", 1)[1]
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.delenv("KUBECONFIG", raising=False)
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
        monkeypatch.setattr(
            incluster_config, "SERVICE_TOKEN_FILENAME", str(service_account / "token")
        )
        monkeypatch.setattr(
            incluster_config, "SERVICE_CERT_FILENAME", str(service_account / "ca.crt")
        )
        monkeypatch.setattr(kubeapi, "IN_CLUSTER_NAMESPACE", service_account / "namespace")
        yield server


def test_in_a_pod_the_service_account_is_used_and_its_namespace_is_the_default(
    in_pod: fakeapi.FakeApiServer,
) -> None:
    evidence = gather(None)
    assert in_pod.url.startswith("https://")
    assert in_pod.tokens == {"bearer service-account-token"}
    assert evidence.provenance == "live cluster in-cluster"
    assert evidence.incident is not None and evidence.incident.namespace == "app"
    assert evidence.get("Deployment", "app", "user-service") is not None
    assert evidence.gaps == ()


def test_in_a_pod_rbac_check_asks_as_the_service_account_and_names_it_in_the_grant(
    in_pod: fakeapi.FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kubectl exec deploy/paramedic-serve -- paramedic rbac --check` (docs/SERVE.md)."""
    in_pod.user = "system:serviceaccount:paramedic:paramedic"
    in_pod.forbidden = {("list", "events", None)}
    code, out, err = clirun.run(capsys, "rbac", "--check")
    assert (code, err) == (1, "")
    assert in_pod.tokens == {"bearer service-account-token"}
    lines = out.splitlines()
    assert lines[0].startswith(
        "user system:serviceaccount:paramedic:paramedic (context in-cluster) lacks 1 of the"
    )
    assert lines[1:] == [
        "  ✗ list events (cluster-wide)",
        "to grant it, an admin runs (as pasted):",
        "paramedic rbac --service-account paramedic/paramedic | kubectl apply -f -",
    ]
