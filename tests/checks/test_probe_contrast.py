"""The pod-versus-node contrast of --probe-pod, read from recorded probes (as a bundle replays
them): which layer it points at, and what network-policy and firewall conclude from it."""

from __future__ import annotations

import dataclasses

import checkctx
import pytest

from paramedic.checks import firewall, model, network_policy, vantage
from paramedic.evidence import demos, probes_file

V = model.Verdict
ALLOWED = model.Finding(check="network-policy", verdict=V.RULED_OUT, summary="ok")


def tcp(vantage_: str, node: str, outcome: str, target: str = "10.96.112.40:5432"):
    return probes_file.ProbeResult(
        kind="tcp",
        target=target,
        outcome=outcome,
        elapsed_ms=3001.0 if outcome == "timeout" else 2.0,
        source=f"pod app/paramedic-{'node' if vantage_ == 'node' else 'probe'}-{node}",
        vantage=vantage_,
        node=node,
    )


POD_FAILS_NODE_CONNECTS = (tcp("pod", "node-a", "timeout"), tcp("node", "node-a", "open"))
BOTH_FAIL = (tcp("pod", "node-a", "timeout"), tcp("node", "node-a", "timeout"))
DB_NODE_CONNECTS = (*BOTH_FAIL, tcp("pod", "node-b", "open"))


def _evidence(probes):
    return dataclasses.replace(demos.load("seed"), probes=probes)


@pytest.mark.parametrize(
    ("probes", "layer"),
    [
        (POD_FAILS_NODE_CONNECTS, vantage.Layer.POLICY),
        (BOTH_FAIL, vantage.Layer.INFRASTRUCTURE),
        (DB_NODE_CONNECTS, vantage.Layer.BETWEEN_NODES),
        ((tcp("pod", "node-a", "open"), tcp("node", "node-a", "open")), vantage.Layer.OPEN),
        ((tcp("pod", "node-a", "refused"), tcp("node", "node-a", "open")), vantage.Layer.POLICY),
    ],
)
def test_the_contrast_names_the_layer(probes, layer):
    seen = vantage.read(_evidence(probes), {"node-b"})
    assert seen is not None and seen.layer is layer and seen.node == "node-a"
    assert len(seen.cites) == len(probes)


@pytest.mark.parametrize(
    "probes",
    [
        (),  # no probes
        (tcp("pod", "node-a", "timeout"),),  # the pod alone: nothing to contrast with
        # probes from before vantages were recorded (source only)
        (dataclasses.replace(tcp("pod", "node-a", "timeout"), vantage="", node=""),),
        # mixed: one target connects from the node, another does not
        (
            tcp("pod", "node-a", "timeout"),
            tcp("node", "node-a", "open"),
            tcp("node", "node-a", "timeout", target="10.244.2.31:5432"),
        ),
    ],
)
def test_no_contrast_without_both_vantages_or_with_mixed_outcomes(probes):
    assert vantage.read(_evidence(probes), {"node-b"}) is None


def _netpol(demo: str, probes):
    return network_policy.run(checkctx.context(demo, probes=probes))


def test_network_policy_cause_cites_the_pod_failing_where_its_node_connects():
    finding = _netpol("seed", POD_FAILS_NODE_CONNECTS)
    assert finding.verdict is V.CAUSE and finding.confidence is model.Confidence.HIGH
    assert any("a policy layer drops the pod's traffic" in c.text for c in finding.evidence)
    assert finding.details["probe_contrast"] == "policy"


def test_allowed_policies_contradicted_by_the_probes_are_inconclusive_with_what_to_read():
    assert _netpol("external-db-firewall", ()).verdict is V.RULED_OUT
    finding = _netpol("external-db-firewall", POD_FAILS_NODE_CONNECTS)
    assert finding.verdict is V.INCONCLUSIVE
    assert "a policy layer not evaluated here likely drops it" in finding.summary
    assert "kubectl get networkpolicies" in finding.missing


@pytest.mark.parametrize("probes", [BOTH_FAIL, DB_NODE_CONNECTS])
def test_other_contrasts_are_cited_but_never_rule_a_policy_out(probes):
    finding = _netpol("seed", probes)
    assert finding.verdict is V.CAUSE  # the engine's block stands
    assert any("probe tcp 10.96.112.40:5432 from the" in c.text for c in finding.evidence)


def _outside(probes) -> model.Finding:
    ctx = checkctx.context(
        "external-db-firewall", probes=probes, earlier={"network-policy": ALLOWED}
    )
    return firewall.run(ctx)


def test_outside_target_node_connecting_rules_the_firewall_out():
    probes = (
        tcp("pod", "node-a", "timeout", "203.0.113.10:5432"),
        tcp("node", "node-a", "open", "203.0.113.10:5432"),
    )
    finding = _outside(probes)
    assert (finding.verdict, finding.confidence) == (V.RULED_OUT, model.Confidence.HIGH)
    assert "the client node node-a itself connects" in finding.summary
    assert "policy layer" in finding.summary


def test_outside_target_both_failing_is_the_firewall_with_high_confidence():
    unknown = model.Finding(check="network-policy", verdict=V.INCONCLUSIVE, summary="?")
    probes = (
        tcp("pod", "node-a", "timeout", "203.0.113.10:5432"),
        tcp("node", "node-a", "timeout", "203.0.113.10:5432"),
    )
    ctx = checkctx.context(
        "external-db-firewall", probes=probes, earlier={"network-policy": unknown}
    )
    finding = firewall.run(ctx)
    assert (finding.verdict, finding.confidence) == (V.CAUSE, model.Confidence.HIGH)
    assert "node-a itself (a hostNetwork probe pod) fails too" in finding.summary
    assert "or the database is down" in finding.summary


def _between(probes) -> model.Finding:
    ctx = checkctx.context("node-to-node-vxlan", probes=probes, earlier={"network-policy": ALLOWED})
    ctx = dataclasses.replace(ctx, evidence=ctx.evidence.with_cloud(()))  # no node rules to read
    return firewall.run(ctx)


def test_between_nodes_the_database_node_connecting_is_the_cause():
    finding = _between(DB_NODE_CONNECTS)
    assert (finding.verdict, finding.confidence) == (V.CAUSE, model.Confidence.HIGH)
    assert any("on the database's node node-b connects" in c.text for c in finding.evidence)


def test_between_nodes_the_client_node_reaching_the_database_rules_the_path_out():
    finding = _between(POD_FAILS_NODE_CONNECTS)
    assert (finding.verdict, finding.confidence) == (V.RULED_OUT, model.Confidence.HIGH)
    assert "the client node node-a itself reaches the database" in finding.summary


def test_between_nodes_without_probes_the_log_pattern_alone_is_a_medium_cause():
    finding = _between(())
    assert (finding.verdict, finding.confidence) == (V.CAUSE, model.Confidence.MEDIUM)
    assert not any("probe tcp" in c.text for c in finding.evidence)


def test_between_nodes_without_probes_or_logs_is_inconclusive_with_the_command():
    ctx = checkctx.context(
        "node-to-node-vxlan", logs={}, probes=(), earlier={"network-policy": ALLOWED}
    )
    finding = firewall.run(dataclasses.replace(ctx, evidence=ctx.evidence.with_cloud(())))
    assert finding.verdict is V.INCONCLUSIVE
    assert "aws ec2 describe-security-groups" in finding.missing
