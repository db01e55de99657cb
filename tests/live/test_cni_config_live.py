"""The CNI's own ConfigMaps, live: kube-system's ConfigMaps are listed (not only CoreDNS's
`coredns`, fetched by name), so a live run reads `cilium-config` (Cilium's
`policy-deny-response`) exactly as the bundle does. Through the real client against the fake
API server, with the cilium-deny demo as the cluster."""

from __future__ import annotations

import copy
from pathlib import Path

from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.netpol import cluster
from paramedic.netpol.layers import cni
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import fakeapi, livekit

DEMO = "cilium-deny"


def test_a_live_run_reads_cilium_config_and_its_findings_equal_the_bundles(
    tmp_path: Path,
) -> None:
    demo = demos.load(DEMO)
    incident = demo.incident
    assert incident is not None
    with fakeapi.FakeApiServer(demo.objects, logs=dict(demo.logs), metrics=demo.metrics) as server:
        config = server.kubeconfig(tmp_path / "k", namespace=str(incident.namespace))
        live = livekit.gather(
            config,
            source=incident.source,
            target=incident.target,
            port=incident.port,
            namespace=incident.namespace,
        )
    assert live.get("ConfigMap", "kube-system", "cilium-config") is not None
    runbook = runbook_model.builtin(incident.runbook)
    shipped = evidence_model.Evidence.of(
        demo.objects, logs=demo.logs, metrics=demo.metrics, incident=incident
    )
    live_doc = engine.run(runbook, live, incident).as_dict()
    bundle_doc = engine.run(runbook, shipped, incident).as_dict()
    (live_finding,) = [f for f in live_doc["findings"] if f["check"] == "network-policy"]
    (bundle_finding,) = [f for f in bundle_doc["findings"] if f["check"] == "network-policy"]
    # the same finding; which of the two equally denied client pods is the example, and the
    # order of the flows, follow the order the API lists pods in
    deny_response = [e for e in bundle_finding["evidence"] if "policy-deny-response: icmp" in e]
    assert deny_response and set(deny_response) <= set(live_finding["evidence"])
    assert len(live_finding["evidence"]) == len(bundle_finding["evidence"])
    for part in ("verdict", "confidence", "summary", "fix", "why", "verify"):
        assert live_finding.get(part) == bundle_finding.get(part), part


def test_calico_installed_by_its_operator_is_detected_in_calico_system(tmp_path: Path) -> None:
    """tigera-operator runs calico-node in calico-system, not kube-system: the live run lists
    DaemonSets there too and `--cni auto` names that agent (not a guess from policy objects)."""
    demo = demos.load("calico-global-deny")
    incident = demo.incident
    assert incident is not None
    objs = [copy.deepcopy(o) for o in demo.objects]
    (agent,) = [
        o for o in objs if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "calico-node"
    ]
    agent["metadata"]["namespace"] = "calico-system"
    objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "calico-system"}})
    with fakeapi.FakeApiServer(objs, logs=dict(demo.logs)) as server:
        config = server.kubeconfig(tmp_path / "k", namespace=str(incident.namespace))
        live = livekit.gather(
            config,
            source=incident.source,
            target=incident.target,
            port=incident.port,
            namespace=incident.namespace,
        )
    assert live.get("DaemonSet", "calico-system", "calico-node") is not None
    assert cni.detect(cluster.of(live)) == (
        "calico",
        "DaemonSet calico-system/calico-node is its agent",
    )
