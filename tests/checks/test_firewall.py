"""The `firewall` check: outside targets, what client errors mean, and the exact rule to ask for.
The last tests make real timeouts and refusals with nftables in a network namespace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import checkctx
import pytest

from paramedic.checks import firewall, model, signatures
from paramedic.evidence import probes_file

Objects = list[dict[str, Any]]
ALLOWED = model.Finding(check="network-policy", verdict=model.Verdict.RULED_OUT, summary="allowed")
LOG = ("app", "user-service-7d9f8b6c5d-x2x9k", "app")


def _context(
    demo: str = "external-db-firewall",
    edit: Callable[[Objects], None] | None = None,
    *,
    earlier: dict[str, model.Finding] | None = None,
    **kwargs: Any,
) -> model.Context:
    allowed = {"network-policy": ALLOWED} if earlier is None else earlier
    return checkctx.context(demo, edit, earlier=allowed, **kwargs)


def test_dropped_connections_to_an_outside_db_are_a_cause_with_the_exact_rule() -> None:
    finding = firewall.run(_context())
    assert (finding.verdict, finding.confidence, finding.priority) == (
        model.Verdict.CAUSE,
        model.Confidence.HIGH,
        30,
    )
    assert finding.fix is not None
    rule = finding.fix.steps[0]
    assert rule.content.startswith(
        "allow TCP from 10.0.1.11/32, 10.0.1.12/32\n      to   203.0.113.10/32 port 5432"
    )
    assert "AWS security group" in finding.fix.summary
    assert rule.action["sources"] == ["10.0.1.11", "10.0.1.12"]
    assert "nc -vz -w 5 203.0.113.10 5432" in finding.verify


def test_a_target_inside_the_cluster_is_not_ruled_out_without_looking() -> None:
    finding = firewall.run(_context("seed"))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert finding.summary.startswith("the CNI's data path between nodes is not in the evidence")
    assert finding.missing.startswith("kubectl -n kube-system get daemonsets,configmaps -o yaml")


@pytest.mark.parametrize(
    ("outcome", "verdict"),
    [
        ("open", model.Verdict.RULED_OUT),
        ("timeout", model.Verdict.CAUSE),
        ("unreachable", model.Verdict.CAUSE),
        ("refused", model.Verdict.RULED_OUT),
    ],
)
def test_a_recorded_tcp_probe_decides(outcome: str, verdict: model.Verdict) -> None:
    probe = probes_file.ProbeResult(
        kind="tcp", target="203.0.113.10:5432", outcome=outcome, elapsed_ms=5.0
    )
    assert firewall.run(_context(logs={}, probes=(probe,))).verdict is verdict


@pytest.mark.parametrize(
    ("line", "meaning", "verdict"),
    [
        (
            'connection to server at "203.0.113.10", port 5432 failed: Connection timed out',
            "tcp-timeout",
            model.Verdict.CAUSE,
        ),
        ("dial tcp 203.0.113.10:5432: connect: no route to host", "no-route", model.Verdict.CAUSE),
        (
            'connection to server at "203.0.113.10", port 5432 failed: Connection refused',
            "tcp-refused",
            model.Verdict.RULED_OUT,
        ),
        (
            "read tcp 10.244.1.23:40010->203.0.113.10:5432: read: connection reset by peer",
            "conn-reset",
            model.Verdict.RULED_OUT,
        ),
    ],
)
def test_client_errors_are_classified_and_explained(
    line: str, meaning: str, verdict: model.Verdict
) -> None:
    finding = firewall.run(_context(logs={LOG: (line,)}, probes=()))
    assert finding.verdict is verdict
    assert f"{meaning} means: {signatures.describe(meaning)}" in [c.text for c in finding.evidence]


def test_log_lines_about_another_server_are_not_evidence_for_this_one() -> None:
    line = 'connection to server at "10.96.77.7", port 6379 failed: Connection timed out'
    finding = firewall.run(_context(logs={LOG: (line,)}, probes=()))
    assert finding.verdict is not model.Verdict.CAUSE
    assert not any("10.96.77.7" in c.text for c in finding.evidence)


def test_an_inconclusive_policy_verdict_is_not_called_allowed() -> None:
    unsure = model.Finding(
        check="network-policy", verdict=model.Verdict.INCONCLUSIVE, summary="cannot evaluate"
    )
    finding = firewall.run(_context(earlier={"network-policy": unsure}))
    assert (finding.verdict, finding.confidence) == (model.Verdict.CAUSE, model.Confidence.MEDIUM)
    assert "allow them" not in finding.summary and "not excluded" in finding.summary
    assert "nothing blocks" not in finding.why


def test_without_a_network_policy_verdict_the_cause_is_only_medium_confidence() -> None:
    finding = firewall.run(_context(earlier={}))
    assert (finding.verdict, finding.confidence) == (model.Verdict.CAUSE, model.Confidence.MEDIUM)
    assert "were not evaluated" in finding.summary


def test_a_blocking_network_policy_comes_first_and_the_firewall_waits() -> None:
    blocked = model.Finding(
        check="network-policy", verdict=model.Verdict.CAUSE, summary="egress denied"
    )
    finding = firewall.run(_context(earlier={"network-policy": blocked}))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert finding.missing.startswith(
        "after the NetworkPolicy fix, test again: kubectl -n app run nettest"
    )


def test_without_client_logs_or_probes_it_says_how_to_test() -> None:
    finding = firewall.run(_context(logs={}, probes=()))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "nc -vz -w 5 203.0.113.10 5432" in finding.missing


# --- real timeouts and refusals: nftables in a network namespace -----------------------------

_CONNECT = """
import sys, psycopg
try:
    psycopg.connect(f"host=10.77.0.1 port={sys.argv[1]} user=x dbname=x connect_timeout=2").close()
except psycopg.OperationalError as exc:
    print(str(exc).replace("\\n", " "))
"""


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    """A network namespace: 10.77.0.1 on lo, nothing on port 5433, nftables dropping 5432."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nft"):
        pytest.skip("needs root, ip and nft (network namespaces with nftables)")
    name = f"pm-fw-{uuid.uuid4().hex[:8]}"
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=30)  # noqa: E731
    run("ip", "netns", "add", name)
    try:
        run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        run("ip", "netns", "exec", name, "ip", "addr", "add", "10.77.0.1/32", "dev", "lo")
        run(
            "ip",
            "netns",
            "exec",
            name,
            "nft",
            "add table inet t; add chain inet t out { type filter hook output priority 0; }; "
            "add rule inet t out tcp dport 5432 drop",
        )
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=30)


@pytest.mark.root
@pytest.mark.parametrize(
    ("port", "meaning", "verdict"),
    [(5432, "tcp-timeout", model.Verdict.CAUSE), (5433, "tcp-refused", model.Verdict.RULED_OUT)],
)
def test_real_drop_and_reject_give_the_verdicts_they_should(
    netns: str, port: int, meaning: str, verdict: model.Verdict
) -> None:
    out = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", _CONNECT, str(port)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    assert [m.meaning for m in signatures.scan([out])] == [meaning], out
    assert firewall.run(_context(logs={LOG: (out,)}, probes=())).verdict is verdict


def _external_name(objects: Objects) -> None:
    for obj in objects:
        if obj["kind"] == "Service" and obj["metadata"]["name"] == "profile-db":
            obj["spec"] = {
                "type": "ExternalName",
                "externalName": "pg.example.com.",
                "ports": [{"port": 5432}],
            }


def test_an_external_name_is_resolved_through_the_recorded_dns_probe() -> None:
    dns = probes_file.ProbeResult(
        kind="dns",
        target="pg.example.com",
        outcome="ok",
        elapsed_ms=2.0,
        data={"addresses": ["203.0.113.10", "203.0.113.10"]},
    )
    finding = firewall.run(_context(edit=_external_name, probes=(dns,)))
    assert finding.details["destination"] == ["203.0.113.10"]
