"""Opt-in: the live path against a real cluster (PARAMEDIC_LIVE_CLUSTER=1 and KUBECONFIG set).

By default it diagnoses CoreDNS -> the `kubernetes` Service, which every cluster has; set
PARAMEDIC_LIVE_FROM / PARAMEDIC_LIVE_TO / PARAMEDIC_LIVE_NAMESPACE to diagnose a real incident.
It only reads (no --probe-pod), so it is safe on any cluster the kubeconfig can read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .livekit import gather, run

pytestmark = [
    pytest.mark.live_cluster,
    pytest.mark.skipif(
        os.environ.get("PARAMEDIC_LIVE_CLUSTER") != "1" or not os.environ.get("KUBECONFIG"),
        reason="opt-in: set PARAMEDIC_LIVE_CLUSTER=1 and KUBECONFIG to run against a real cluster",
    ),
]


def test_a_real_cluster_diagnosis_equals_the_diagnosis_of_its_capture(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from paramedic.evidence import bundle, model, writer
    from paramedic.runbooks import engine
    from paramedic.runbooks import model as runbook_model

    source = os.environ.get("PARAMEDIC_LIVE_FROM", "k8s-app=kube-dns")
    target = os.environ.get("PARAMEDIC_LIVE_TO", "default/kubernetes")
    namespace = os.environ.get("PARAMEDIC_LIVE_NAMESPACE", "kube-system")
    code, out, err = run(
        capsys, "diagnose", "--from", source, "--to", target, "-n", namespace, "-o", "json"
    )
    assert code in (0, 1), err
    assert json.loads(out)["schema"] == "paramedic.diagnosis/v1"

    incident = model.Incident(source=source, target=target, namespace=namespace)
    evidence = gather(None, source=source, target=target, port=None, namespace=namespace)
    offline = bundle.load(writer.write(evidence, tmp_path / "bundle.tar.gz"))
    runbook = runbook_model.builtin(incident.runbook)
    first = engine.run(runbook, evidence, evidence.incident or incident).as_dict()
    second = engine.run(runbook, offline, offline.incident or incident).as_dict()
    keys = ("incident", "findings", "next", "errors")
    assert {k: first[k] for k in keys} == {k: second[k] for k in keys}
