"""The CNI's own ConfigMaps, live: kube-system's ConfigMaps are listed (not only CoreDNS's
`coredns`, fetched by name), so a live run reads `cilium-config` (Cilium's
`policy-deny-response`) exactly as the bundle does. Through the real client against the fake
API server, with the cilium-deny demo as the cluster."""

from __future__ import annotations

from pathlib import Path

from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
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
