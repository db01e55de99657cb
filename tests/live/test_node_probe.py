"""--probe-pod from the node: the hostNetwork pod beside the labelled one, the pod on the
database's node, Pod Security, and the results as recorded probes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paramedic.evidence import probes_file
from paramedic.gather import node_probe

from . import fakeapi
from .livekit import gather

OPEN = "@@paramedic tcp {t} rc=0 ms=4\n@@end\n"
TIMEOUT = "@@paramedic tcp {t} rc=1 ms=3004\nnc: timed out\n@@end\n"
TARGETS = ("10.96.112.40:5432", "10.244.2.31:5432")


def log_of(*, pod: str, node: str, db_node: str) -> Any:
    """A probe log per created pod: `pod` for the labelled pod on the client's node, `node` for
    the hostNetwork pod, `db_node` for the labelled pod on the database's node."""

    def answer(created: dict[str, Any]) -> str:
        spec = created["spec"]
        if spec.get("hostNetwork"):
            line = node
        elif spec.get("nodeName") == "node-b":
            line = db_node
        else:
            line = pod
        return "".join(line.format(t=t) for t in TARGETS)

    return answer


def _label(server: fakeapi.FakeApiServer, level: str) -> None:
    for obj in server.objects:
        if obj.get("kind") == "Namespace" and obj["metadata"]["name"] == "app":
            obj["metadata"].setdefault("labels", {})[node_probe.ENFORCE] = level


def test_a_privileged_namespace_gets_the_node_pod_and_the_database_node_pod(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    _label(server, "privileged")
    server.probe_logs = log_of(pod=TIMEOUT, node=OPEN, db_node=OPEN)
    evidence = gather(kubeconfig, probe_pod=True)

    labelled, host, db_side = server.created
    assert labelled["spec"]["nodeName"] == host["spec"]["nodeName"] == "node-a"  # not the DB's
    assert "hostNetwork" not in labelled["spec"] and host["spec"]["hostNetwork"] is True
    assert host["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert host["metadata"]["labels"] == node_probe.NODE_LABELS  # no policy selects it anyway
    assert host["spec"]["tolerations"] == [{"operator": "Exists"}]
    assert host["spec"]["securityContext"]["runAsUser"] == 65534  # hostNetwork, still nobody
    assert db_side["spec"]["nodeName"] == "node-b"
    assert db_side["metadata"]["labels"] == labelled["metadata"]["labels"]
    assert sorted(server.deleted) == sorted(f"app/{p['metadata']['name']}" for p in server.created)

    seen = {(p.vantage, p.node, p.target): p.outcome for p in evidence.probes if p.kind == "tcp"}
    assert seen[("pod", "node-a", "10.96.112.40:5432")] == "timeout"
    assert seen[("node", "node-a", "10.96.112.40:5432")] == "open"
    assert seen[("pod", "node-b", "10.244.2.31:5432")] == "open"
    # recorded as a bundle records them, and read back the same
    text = probes_file.dumps(evidence.probes)
    again = probes_file.parse(__import__("json").loads(text), where="probes.json")
    assert again == evidence.probes


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_a_namespace_whose_pod_security_forbids_host_network_is_a_gap_with_the_label(
    server: fakeapi.FakeApiServer, kubeconfig: Path, level: str
) -> None:
    _label(server, level)
    server.probe_logs = log_of(pod=TIMEOUT, node=OPEN, db_node=OPEN)
    evidence = gather(kubeconfig, probe_pod=True)

    assert not any(p["spec"].get("hostNetwork") for p in server.created)
    assert len(server.created) == 2 and len(server.deleted) == 2
    (gap,) = [g for g in map(str, evidence.gaps) if g.startswith("node probe not run")]
    assert f"enforces Pod Security {level!r}" in gap
    assert (
        f"kubectl label namespace app {node_probe.ENFORCE}=privileged --overwrite" in gap
        and f"{node_probe.ENFORCE}={level} --overwrite" in gap  # the undo
    )
    assert "kubectl debug node/node-a -it --image=busybox:1.36 -- nc -vz -w 5" in gap
    assert not any(p.vantage == "node" for p in evidence.probes)


def test_an_admission_refusal_is_a_gap_naming_its_reason(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    """The label could not be read (RBAC), so the create is tried; admission refuses it."""
    _label(server, "baseline")
    server.forbidden.add(("get", "namespaces", None))
    evidence = gather(kubeconfig, probe_pod=True)

    gaps = [g for g in map(str, evidence.gaps) if "node probe pod (hostNetwork) not created" in g]
    assert gaps == [
        "node probe pod (hostNetwork) not created in app on node node-a: forbidden: violates "
        'PodSecurity "baseline:latest": host namespaces (hostNetwork=true)'
    ]
    assert len(server.deleted) == len(server.created) == 2


def test_every_probe_pod_is_deleted_when_interrupted_while_waiting(
    server: fakeapi.FakeApiServer, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while waiting for the pods: the `finally` deletes every one that was created."""
    from paramedic.gather import probe_pod

    def interrupted(*args: object, **kwargs: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(probe_pod, "_wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gather(kubeconfig, probe_pod=True)
    assert len(server.created) == 3
    assert sorted(server.deleted) == sorted(f"app/{p['metadata']['name']}" for p in server.created)


def _finding(doc: dict[str, Any], check: str) -> dict[str, Any]:
    return next(f for f in [*doc["findings"], *doc.get("next", [])] if f["check"] == check)


def test_the_contrast_reaches_the_checks_live_and_replays_from_the_captured_bundle(
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The labelled pod times out where node-a itself connects: the policy layer (the seed's
    NetworkPolicy) is confirmed, and the path between the nodes is ruled out by node-a reaching
    the database on node-b; `capture` records the probes and the bundle says the same."""
    import json

    from .livekit import run

    _label(server, "privileged")
    server.probe_logs = log_of(pod=TIMEOUT, node=OPEN, db_node=TIMEOUT)
    incident = ("--from", "user-service", "--to", "profile-db.data", "--port", "5432")
    live = ("--kubeconfig", str(kubeconfig), "--probe-pod")
    _, live_json, _ = run(capsys, "diagnose", *incident, *live, "-o", "json")
    out = tmp_path / "bundle"
    code, _, _ = run(capsys, "capture", *incident, *live, str(out))
    assert code == 0
    _, replay_json, _ = run(capsys, "diagnose", str(out), "-o", "json")

    recorded = json.loads((out / "probes.json").read_text())["probes"]
    assert {(p.get("vantage"), p.get("node")) for p in recorded} == {
        ("pod", "node-a"),
        ("node", "node-a"),
        ("pod", "node-b"),
    }
    for text in (live_json, replay_json):
        doc = json.loads(text)
        netpol, fw = _finding(doc, "network-policy"), _finding(doc, "firewall")
        assert netpol["verdict"] == "cause" and netpol["confidence"] == "high"
        assert any("a policy layer drops" in c for c in netpol["evidence"])
        assert fw["verdict"] == "ruled-out"
        assert "the client node node-a itself reaches the database" in fw["summary"]
