"""deploy/serve renders with `kubectl kustomize`, and every rendered object validates offline
against the Kubernetes API schema as the official client's models encode it: each object is
deserialized into its model class (required fields, types) and serialized back, and the two
must be equal, so a misspelt or misplaced field (which the models would drop) fails too."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "deploy" / "serve"

MODELS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding",
}


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH")
    done = subprocess.run(
        ["kubectl", "kustomize", str(SERVE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _validated(doc: dict[str, Any]) -> Any:
    name = MODELS[(doc["apiVersion"], doc["kind"])]
    api = client.ApiClient()
    model = api._ApiClient__deserialize(doc, name)  # type: ignore[attr-defined]
    assert api.sanitize_for_serialization(model) == doc, f"{doc['kind']}: fields the schema lacks"
    return model


def test_every_rendered_object_validates_against_the_api_schema(
    rendered: list[dict[str, Any]],
) -> None:
    kinds = sorted(d["kind"] for d in rendered)
    assert kinds == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "PersistentVolumeClaim",
            "Deployment",
            "Service",
        ]
    )
    for doc in rendered:
        _validated(doc)


def test_a_misspelt_field_fails_the_schema_check() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": 80, "targetport": 8080}]},
    }
    with pytest.raises(AssertionError, match="fields the schema lacks"):
        _validated(doc)


def test_the_deployment_runs_serve_with_probes_requests_and_the_read_only_account(
    rendered: list[dict[str, Any]],
) -> None:
    by_kind = {d["kind"]: d for d in rendered}
    deployment = _validated(by_kind["Deployment"])
    pod = deployment.spec.template.spec
    container = pod.containers[0]
    assert pod.service_account_name == "paramedic"
    assert container.args[0] == "serve"
    assert container.liveness_probe.http_get.path == "/healthz"
    assert container.readiness_probe.http_get.path == "/readyz"
    assert container.resources.requests == {"cpu": "100m", "memory": "256Mi"}
    claim = {v.persistent_volume_claim.claim_name for v in pod.volumes if v.persistent_volume_claim}
    assert claim == {by_kind["PersistentVolumeClaim"]["metadata"]["name"]}
    routes_map = next(v.config_map.name for v in pod.volumes if v.config_map)
    assert routes_map == by_kind["ConfigMap"]["metadata"]["name"]  # the generated, hashed name
    binding = by_kind["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == by_kind["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "paramedic", "namespace": "paramedic"}
    ]
    verbs = {v for rule in by_kind["ClusterRole"]["rules"] for v in rule["verbs"]}
    assert verbs <= {"get", "list"}  # read-only
    service = by_kind["Service"]["spec"]
    assert service["selector"] == deployment.spec.selector.match_labels
    assert service["ports"][0]["targetPort"] == "http"


def test_the_shipped_routes_file_is_valid() -> None:
    from paramedic.serve import routes

    loaded = routes.load(SERVE / "routes.yaml")
    found = routes.resolve(
        loaded,
        {
            "alertname": "PostgresConnectionErrors",
            "deployment": "user-service",
            "db_service": "profile-db.data",
            "namespace": "app",
        },
    )
    assert found is not None and found.as_dict() == {
        "from": "user-service",
        "to": "profile-db.data",
        "port": 5432,
        "namespace": "app",
    }
