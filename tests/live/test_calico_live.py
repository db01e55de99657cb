"""Calico's policy objects, live: gathered from projectcalico.org/v3 when Calico's API server
serves it, else from the crd.projectcalico.org/v1 CRDs (never both: no policy counts twice),
stored apart from networking.k8s.io NetworkPolicies of the same name, and when they cannot be
read (403, discovery failing) the network-policy check does not rule out: it says inconclusive
with the `kubectl get` command that gets them. All through the real client against the fake
API server, with the calico-global-deny demo as the cluster."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from paramedic.checks import model
from paramedic.evidence import bundle as bundle_reader
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster
from paramedic.netpol.calico import view
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import fakeapi, livekit

DEMO = "calico-global-deny"
# Calico NetworkPolicy with the same namespace and name as the demo's Kubernetes one
TWIN = {
    "apiVersion": "projectcalico.org/v3",
    "kind": "NetworkPolicy",
    "metadata": {"name": "profile-db-ingress", "namespace": "data"},
    "spec": {"tier": "default", "order": 50, "selector": "app == 'nothing-here'", "types": []},
}


def _objects(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [*copy.deepcopy(list(demos.load(DEMO).objects)), *extra]


def _gather(server: fakeapi.FakeApiServer, tmp_path: Path) -> evidence_model.Evidence:
    return livekit.gather(server.kubeconfig(tmp_path / "k", namespace="app"))


def _network_policy(ev: evidence_model.Evidence) -> model.Finding:
    assert ev.incident is not None
    runbook = runbook_model.builtin(ev.incident.runbook)
    (finding,) = [
        f for f in engine.run(runbook, ev, ev.incident).findings if f.check == "network-policy"
    ]
    return finding


def _calico_paths(server: fakeapi.FakeApiServer) -> list[str]:
    return [p for _, p in server.requests if "projectcalico.org" in p]


def test_calico_policies_are_read_from_the_v3_api_only_when_both_are_served(
    tmp_path: Path,
) -> None:
    with fakeapi.FakeApiServer(_objects()) as server:
        ev = _gather(server, tmp_path)
        paths = _calico_paths(server)
    assert paths and all("/apis/projectcalico.org/v3/" in p for p in paths)
    assert "/apis/projectcalico.org/v3/globalnetworkpolicies" in paths
    assert "/apis/projectcalico.org/v3/namespaces/data/networkpolicies" in paths
    assert "/apis/projectcalico.org/v3/namespaces/app/networkpolicies" in paths
    assert [o["metadata"]["name"] for o in ev.kind("GlobalNetworkPolicy")] == ["security.deny-db"]
    assert [o["apiVersion"] for o in ev.kind("Tier")] == ["projectcalico.org/v3"]
    finding = _network_policy(ev)
    assert finding.verdict is model.Verdict.CAUSE
    assert "security.deny-db" in finding.summary


def test_without_calico_api_server_the_crd_objects_are_read_and_decide_the_same(
    tmp_path: Path,
) -> None:
    with fakeapi.FakeApiServer(_objects()) as server:
        known = {gv for gv, _ in fakeapi.RESOURCES if "/" in gv}
        server.served = known - {"projectcalico.org/v3"}
        ev = _gather(server, tmp_path)
        paths = _calico_paths(server)
    assert paths and all("/apis/crd.projectcalico.org/v1/" in p for p in paths)
    (gnp,) = ev.kind("GlobalNetworkPolicy")
    assert gnp["apiVersion"] == "crd.projectcalico.org/v1"
    finding = _network_policy(ev)
    assert finding.verdict is model.Verdict.CAUSE
    assert "security.deny-db" in finding.summary


def test_a_calico_and_a_kubernetes_network_policy_of_one_name_stay_apart(tmp_path: Path) -> None:
    with fakeapi.FakeApiServer(_objects(copy.deepcopy(TWIN))) as server:
        ev = _gather(server, tmp_path)
    found = sorted(o["apiVersion"] for o in ev.kind("NetworkPolicy", "data"))
    assert found == ["networking.k8s.io/v1", "projectcalico.org/v3"]
    # each reader sees only its own: the engine's NetworkPolicies, Calico's view, a lookup
    kube = [(p.namespace, p.name) for p in cluster.of(ev).policies]
    assert kube == [("data", "profile-db-ingress")]
    calico = [p.ref for p in view.of(ev).policies]
    assert "NetworkPolicy (projectcalico.org) data/profile-db-ingress" in calico
    looked_up = ev.get("NetworkPolicy", "data", "profile-db-ingress")
    assert looked_up is not None and looked_up["apiVersion"] == "networking.k8s.io/v1"


@pytest.mark.parametrize("refused", ["globalnetworkpolicies", "tiers"])
def test_a_forbidden_calico_list_is_never_ruled_out(refused: str, tmp_path: Path) -> None:
    with fakeapi.FakeApiServer(_objects()) as server:
        server.forbidden.add(("list", refused, None))
        ev = _gather(server, tmp_path)
    (gap,) = [g for g in ev.gaps if refused in str(g)]
    assert gap.kind.endswith(".projectcalico.org")
    finding = _network_policy(ev)
    assert finding.verdict is not model.Verdict.RULED_OUT
    if refused == "globalnetworkpolicies":  # the deny is hidden: the policies seen allow it
        assert finding.verdict is model.Verdict.INCONCLUSIVE
        assert f"kubectl get {refused}.projectcalico.org -o yaml" in (finding.missing or "")


def test_failed_discovery_leaves_calico_unknown_and_the_check_inconclusive(
    tmp_path: Path,
) -> None:
    with fakeapi.FakeApiServer(_objects()) as server:
        server.raw["/apis"] = "<html>bad gateway</html>"  # discovery alone answers no JSON
        ev = _gather(server, tmp_path)
    assert any(g.kind == "GlobalNetworkPolicy.projectcalico.org" for g in ev.gaps)
    assert not any(g.kind.endswith(".crd.projectcalico.org") for g in ev.gaps)
    finding = _network_policy(ev)
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "kubectl get globalnetworkpolicies.projectcalico.org -o yaml" in (finding.missing or "")


def _etcd_cluster() -> list[dict[str, Any]]:
    """The demo as a Calico cluster with an etcd datastore: calico-node reads etcd, and no
    Kubernetes API holds a Calico object."""
    found = [o for o in _objects() if "projectcalico.org" not in str(o.get("apiVersion"))]
    (agent,) = [o for o in found if o["kind"] == "DaemonSet"]
    container = agent["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [
        {"name": "DATASTORE_TYPE", "value": "etcdv3"},
        {
            "name": "ETCD_ENDPOINTS",
            "valueFrom": {"configMapKeyRef": {"name": "calico-config", "key": "etcd_endpoints"}},
        },
    ]
    return found


def test_calico_with_an_etcd_datastore_is_never_ruled_out(tmp_path: Path) -> None:
    with fakeapi.FakeApiServer(_etcd_cluster()) as server:
        server.served = {gv for gv, _ in fakeapi.RESOURCES if "/" in gv} - set(
            fakeapi.CALICO_VERSIONS
        )
        ev = _gather(server, tmp_path)
        assert _calico_paths(server) == []  # neither Calico API is served: none is asked for
    finding = _network_policy(ev)
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "calicoctl get globalnetworkpolicies -o yaml" in (finding.missing or "")
    assert any("etcd" in c.text for c in finding.evidence)
    # the same cluster with the Calico policies in hand (calicoctl's output in the bundle)
    with_policies = evidence_model.Evidence.of(
        [*ev.objects, *(o for o in _objects() if o["kind"] in ("Tier", "GlobalNetworkPolicy"))],
        incident=ev.incident,
    )
    assert _network_policy(with_policies).verdict is model.Verdict.CAUSE


def test_kubernetes_policies_listed_again_by_calico_count_once(tmp_path: Path) -> None:
    """Calico's API server lists each Kubernetes NetworkPolicy again as knp.default.<name>:
    the mirror is not read as a Calico policy of its own."""
    (kube,) = [o for o in _objects() if o["kind"] == "NetworkPolicy"]
    mirror = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "NetworkPolicy",
        "metadata": {"name": "knp.default." + kube["metadata"]["name"], "namespace": "data"},
        "spec": {"tier": "default", "order": 1000, "selector": "all()", "types": ["Ingress"]},
    }
    with fakeapi.FakeApiServer(_objects(mirror)) as server:
        ev = _gather(server, tmp_path)
    assert len(ev.kind("NetworkPolicy", "data")) == 2  # gathered, and kept as evidence
    assert not [p for p in view.of(ev).policies if p.name.startswith("knp.")]
    assert _network_policy(ev).verdict is model.Verdict.CAUSE


def test_service_account_labels_reach_calicos_service_account_selector(tmp_path: Path) -> None:
    """A Calico rule that admits the source by its ServiceAccount's labels: the account is
    gathered live, so the rule matches and the verdict equals the bundle's."""
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "app", "labels": {"team": "users"}},
    }
    found = _objects(account)
    (gnp,) = [o for o in found if o["kind"] == "GlobalNetworkPolicy"]
    gnp["spec"]["ingress"].insert(
        0,
        {
            "action": "Allow",
            "source": {
                "serviceAccounts": {"selector": "team == 'users'"},
                "namespaceSelector": "all()",
            },
        },
    )
    with fakeapi.FakeApiServer(found) as server:
        ev = _gather(server, tmp_path)
    assert [o["metadata"]["labels"] for o in ev.kind("ServiceAccount")] == [{"team": "users"}]
    bundle = evidence_model.Evidence.of(found, incident=demos.load(DEMO).incident)
    assert _network_policy(bundle).verdict is model.Verdict.RULED_OUT
    assert _network_policy(ev).verdict is model.Verdict.RULED_OUT


def test_capture_of_a_crd_only_calico_cluster_diagnoses_as_the_live_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--from", "user-service", "--to", "profile-db.data", "-n", "app", "--port", "5432"]
    with fakeapi.FakeApiServer(_objects()) as server:
        server.served = {gv for gv, _ in fakeapi.RESOURCES if "/" in gv} - {"projectcalico.org/v3"}
        config = str(server.kubeconfig(tmp_path / "k", namespace="app"))
        _, live_out, _ = livekit.run(
            capsys, "diagnose", *argv, "--kubeconfig", config, "-o", "json"
        )
        bundle = str(tmp_path / "b.tar.gz")
        code, _, err = livekit.run(capsys, "capture", *argv, "--kubeconfig", config, bundle)
        assert code == 0, err
    _, offline_out, _ = livekit.run(capsys, "diagnose", bundle, "-o", "json")
    live_doc, offline_doc = json.loads(live_out), json.loads(offline_out)
    assert live_doc["findings"] == offline_doc["findings"]
    (finding,) = [f for f in live_doc["findings"] if f["check"] == "network-policy"]
    assert finding["verdict"] == "cause" and "security.deny-db" in finding["summary"]
    captured = bundle_reader.load(bundle)  # what the bundle holds, read back
    assert [o["apiVersion"] for o in captured.kind("GlobalNetworkPolicy")] == [
        "crd.projectcalico.org/v1"
    ]
