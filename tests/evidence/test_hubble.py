"""Hubble flows in a bundle (flows/*.jsonl, `hubble observe -o jsonpb`): DROPPED flows kept,
malformed lines skipped and counted as a gap, never fatal; and the `network-policy` check cites a
policy drop that agrees with the engine and says the evidence is incomplete when one does not."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from paramedic.checks import model, network_policy
from paramedic.evidence import bundle, demos, hubble
from paramedic.kube import resolve


def flow(src: tuple[str, str, str], dst: tuple[str, str, str], port: int, verdict: str = "DROPPED",
         reason: str = "POLICY_DENIED", direction: str = "INGRESS") -> str:  # fmt: skip
    body: dict[str, Any] = {
        "time": "2026-11-26T03:06:09.121Z",
        "verdict": verdict,
        "IP": {"source": src[2], "destination": dst[2], "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 40412, "destination_port": port, "flags": {"SYN": True}}},
        "source": {"namespace": src[0], "pod_name": src[1], "labels": ["k8s:app=x"]},
        "destination": {"namespace": dst[0], "pod_name": dst[1]},
        "Type": "L3_L4",
        "node_name": "node-b",
        "traffic_direction": direction,
        "Summary": "TCP Flags: SYN",
    }
    if verdict == "DROPPED":
        body.update(drop_reason=133, drop_reason_desc=reason)
    return json.dumps({"flow": body, "node_name": "node-b", "time": body["time"]})


CLIENT = ("app", "user-service-7d9f8b6c5d-x2x9k", "10.244.1.23")
DB = ("data", "profile-db-0", "10.244.2.31")


def bundle_with(tmp_path: Path, demo: str, lines: list[str]) -> Path:
    root = tmp_path / demo
    shutil.copytree(demos.root() / demo, root)
    (root / "flows").mkdir()
    (root / "flows" / "drops.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_dropped_flows_are_kept_and_malformed_lines_are_counted_not_fatal(tmp_path):
    lines = [
        flow(CLIENT, DB, 5432),
        flow(CLIENT, DB, 5432, verdict="FORWARDED"),
        "{not json",
        "",
        json.dumps(["a list, not a flow"]),
        "x" * (hubble.MAX_LINE_BYTES + 10),
        flow(CLIENT, DB, 5432, reason="POLICY_DENY", direction="EGRESS"),
    ]
    ev = bundle.load(bundle_with(tmp_path, "admin-deny", lines))
    assert [(f.drop_reason, f.direction, f.port, f.where) for f in ev.flows] == [
        ("POLICY_DENIED", "INGRESS", 5432, "flows/drops.jsonl:1"),
        ("POLICY_DENY", "EGRESS", 5432, "flows/drops.jsonl:7"),
    ]
    assert all(f.policy_drop for f in ev.flows)
    (gap,) = [g for g in ev.gaps if g.kind == "flows"]
    assert str(gap) == "flows/drops.jsonl: 3 malformed lines skipped (first: line 3)"


def test_flows_in_an_archive_are_read_too(tmp_path):
    root = bundle_with(tmp_path, "admin-deny", [flow(CLIENT, DB, 5432)])
    path = tmp_path / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            data = file.read_bytes()
            info = tarfile.TarInfo(f"b/{file.relative_to(root).as_posix()}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    ev = bundle.load(path)
    assert [f.source.pod for f in ev.flows] == ["user-service-7d9f8b6c5d-x2x9k"]


def test_reading_lines_never_holds_an_overlong_line():
    chunks = [b'{"flow": {}}\n' + b"y" * 40_000, b"y" * 40_000, b"\n{}\nlast"]
    assert list(hubble.read_lines(chunks)) == [b'{"flow": {}}', None, b"{}", b"last"]


def check(ev: Any) -> model.Finding:
    assert ev.incident is not None
    scope = resolve.resolve(ev, ev.incident, default_port=5432)
    return network_policy.run(model.Context(evidence=ev, scope=scope))


def test_a_policy_drop_that_agrees_with_the_engine_is_cited(tmp_path):
    ev = bundle.load(bundle_with(tmp_path, "admin-deny", [flow(CLIENT, DB, 5432)]))
    finding = check(ev)
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.confidence is model.Confidence.HIGH
    (cite,) = [c for c in finding.evidence if c.text.startswith("Hubble:")]
    assert "POLICY_DENIED app/user-service-7d9f8b6c5d-x2x9k -> data/profile-db-0 TCP/5432" in (
        cite.text
    )
    assert cite.text.endswith("agrees with the policies") and cite.source == "flows/drops.jsonl:1"
    assert finding.details["hubble"] == {"agreeing": 1, "disagreeing": 0}


def test_a_policy_drop_the_engine_does_not_explain_makes_the_check_inconclusive(tmp_path):
    healthy_client = ("app", "user-service-7d9f8b6c5d-x2x9k", "")
    ev = bundle.load(bundle_with(tmp_path, "healthy", [flow(healthy_client, DB, 5432)]))
    finding = check(ev)
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "Hubble recorded 1 policy drop(s)" in finding.summary
    assert any("the evidence is incomplete" in c.text for c in finding.evidence)


@pytest.mark.parametrize("reason", ["CT_MAP_INSERTION_FAILED", "STALE_OR_UNROUTABLE_IP"])
def test_a_drop_for_another_reason_is_not_policy_evidence(tmp_path, reason):
    ev = bundle.load(bundle_with(tmp_path, "healthy", [flow(CLIENT, DB, 5432, reason=reason)]))
    assert check(ev).verdict is model.Verdict.RULED_OUT
