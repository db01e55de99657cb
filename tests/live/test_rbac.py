"""The shipped RBAC (src/paramedic/rbac/, which deploy/rbac and `paramedic rbac` apply) allows
every request the gatherer makes, and no more verbs than it needs: recorded against the fake
API server, checked rule by rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from paramedic.evidence import demos

from . import fakeapi
from .livekit import gather
from .test_probe_pod import PROBE_LOG

RBAC = Path(__file__).resolve().parents[2] / "src" / "paramedic" / "rbac"
_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)(?:/namespaces/[^/]+)?/(?P<plural>[^/?]+)"
    r"(?:/(?P<name>[^/?]+))?(?:/(?P<sub>log))?"
)


def _rules(*files: str) -> list[dict]:  # type: ignore[type-arg]
    rules = []
    for name in files:
        for doc in yaml.safe_load_all((RBAC / name).read_text()):
            if doc and doc.get("kind") in ("ClusterRole", "Role"):
                rules += doc["rules"]
    return rules


def _needed(requests: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    """(verb, apiGroup, resource) of every recorded request (discovery excluded: every
    authenticated user may read it through system:discovery)."""
    needed = set()
    for method, path in requests:
        m = _PATH.match(path)
        if path.startswith("/apis?") or path in ("/apis", "/api") or not m:
            continue
        resource = m["plural"] + ("/log" if m["sub"] else "")
        verb = {"POST": "create", "DELETE": "delete"}.get(method, "get" if m["name"] else "list")
        needed.add((verb, m["group"] or "", resource))
    return needed


def _allowed(rules: list[dict], verb: str, group: str, resource: str) -> bool:  # type: ignore[type-arg]
    return any(
        verb in r["verbs"] and group in r["apiGroups"] and resource in r["resources"] for r in rules
    )


def test_the_read_only_role_allows_every_request_of_a_diagnosis_except_secrets(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    gather(kubeconfig)
    rules = _rules("reader.yaml")
    missing = {n for n in _needed(server.requests) if not _allowed(rules, *n)}
    assert missing == {("get", "", "secrets")}
    assert _allowed(_rules("secrets-reader.yaml"), "get", "", "secrets")


def test_the_read_only_role_grants_no_write_verb_and_no_secret_access() -> None:
    for rule in _rules("reader.yaml"):
        assert set(rule["verbs"]) <= {"get", "list"}
        assert "secrets" not in rule["resources"]


def test_the_probe_pod_role_allows_exactly_the_probe_pod_life_cycle(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    server.probe_log = PROBE_LOG
    before = len(server.requests)
    gather(kubeconfig, probe_pod=True)
    rules = _rules("reader.yaml") + _rules("probe-pod.yaml") + _rules("secrets-reader.yaml")
    needed = _needed(server.requests[before:])
    assert {("create", "", "pods"), ("delete", "", "pods")} <= needed
    assert all(_allowed(rules, *n) for n in needed)
    assert {v for r in _rules("probe-pod.yaml") for v in r["verbs"]} == {"create", "get", "delete"}


def test_the_db_probe_role_allows_the_port_forward_on_old_and_new_clusters() -> None:
    rules = _rules("db-probe.yaml")
    assert _allowed(rules, "create", "", "pods/portforward")
    assert _allowed(rules, "get", "", "pods/portforward")
    assert {r for rule in rules for r in rule["resources"]} == {"pods/portforward"}


@pytest.mark.parametrize("api_server", [True, False], ids=["calico-api-server", "crds-only"])
def test_the_read_only_role_allows_every_calico_read(api_server: bool, tmp_path: Path) -> None:
    """On a Calico cluster, with its API server (projectcalico.org/v3) or with only its CRDs
    (crd.projectcalico.org/v1): every Calico list the gatherer makes is granted."""
    with fakeapi.FakeApiServer(demos.load("calico-global-deny").objects) as calico:
        if not api_server:
            calico.served = {gv for gv, _ in fakeapi.RESOURCES if "/" in gv} - {
                "projectcalico.org/v3"
            }
        gather(calico.kubeconfig(tmp_path / "k", namespace="app"))
    needed = _needed(calico.requests)
    group = "projectcalico.org" if api_server else "crd.projectcalico.org"
    assert {("list", group, "globalnetworkpolicies"), ("list", group, "tiers")} <= needed
    missing = {n for n in needed if not _allowed(_rules("reader.yaml"), *n)}
    assert missing <= {("get", "", "secrets")}
