"""The `network-policy` check on the reference demo and on variations of it."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from paramedic.checks import model, network_policy
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve


def context(evidence: evidence_model.Evidence) -> model.Context:
    assert evidence.incident is not None
    return model.Context(
        evidence=evidence, scope=resolve.resolve(evidence, evidence.incident, default_port=5432)
    )


@pytest.fixture(scope="module")
def seed() -> evidence_model.Evidence:
    return demos.load("seed")


def test_reference_demo_names_the_blocking_policies_and_a_one_flow_per_pod_patch(seed):
    finding = network_policy.run(context(seed))
    assert finding.verdict is model.Verdict.CAUSE and finding.confidence is model.Confidence.HIGH
    assert "NetworkPolicy app/user-service-egress" in finding.summary
    assert any("egress[1] to ipBlock 198.51.100.0/24" in c.text for c in finding.evidence)
    source_pods = context(seed).scope.source_pods
    radius = finding.details["blast_radius"]
    assert len(radius) == len(source_pods)
    assert {r["to"] for r in radius} == {"data/profile-db-0"} and {r["port"] for r in radius} == {
        5432
    }
    assert any(
        c.text.startswith(f"patch opens exactly {len(radius)} flow") for c in finding.evidence
    )
    assert finding.fix is not None
    (step,) = finding.fix.steps
    assert step.language == "shell" and step.action["op"] == "create"
    assert step.action["object"]["metadata"]["name"] == "allow-user-service-to-profile-db-5432"
    # One paste applies it: a heredoc whose body is exactly the object the remedy would create.
    head, _, rest = step.content.partition("\n")
    body, _, tail = rest.rpartition("EOF\n")
    assert head == "kubectl apply -f - <<'EOF'" and tail == ""
    assert yaml.safe_load(body) == step.action["object"]
    assert (
        finding.verify
        == "paramedic diagnose -n app --from user-service --to data/profile-db --port 5432"
        "  # expect network-policy under 'Ruled out'"
    )
    assert finding.details["dns_egress_blocked"] is False


def test_applying_the_fix_rules_the_check_out(seed):
    finding = network_policy.run(context(seed))
    assert finding.fix is not None
    fixed = dataclasses.replace(
        seed, **{"objects": (), "index": evidence_model.ObjectIndex.build(())}
    )
    objs = (*seed.objects, *(s.action["object"] for s in finding.fix.steps))
    fixed = evidence_model.Evidence.of(objs, incident=seed.incident)
    after = network_policy.run(context(fixed))
    assert after.verdict is model.Verdict.RULED_OUT
    assert any(
        "allowed by NetworkPolicy app/allow-user-service-to-profile-db-5432 egress[0]" in c.text
        for c in after.evidence
    )


def test_dns_egress_blocked_is_reported_for_the_dns_check(seed):
    objs = tuple(
        o for o in seed.objects if o.get("metadata", {}).get("name") != "default-deny-egress"
    )
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "lockdown", "namespace": "app"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }
    ev = evidence_model.Evidence.of((*objs, deny), incident=seed.incident)
    finding = network_policy.run(context(ev))
    assert finding.details["dns_egress_blocked"] is True
    assert any(c.text.startswith("DNS egress blocked: UDP/53") for c in finding.evidence)


def test_invalid_policy_turns_ruled_out_into_inconclusive_and_names_it():
    healthy = demos.load("healthy")
    bad = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "half-written", "namespace": "app"},
        "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0"}}]}]},
    }
    ev = evidence_model.Evidence.of((*healthy.objects, bad), incident=healthy.incident)
    finding = network_policy.run(context(ev))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert any("NetworkPolicy app/half-written is invalid" in c.text for c in finding.evidence)


@pytest.mark.parametrize(
    ("demo", "verdict", "confidence"),
    [
        ("healthy", model.Verdict.INCONCLUSIVE, model.Confidence.HIGH),
        ("seed", model.Verdict.CAUSE, model.Confidence.MEDIUM),
    ],
    ids=["allowed_becomes_inconclusive", "denied_stays_a_cause_with_medium_confidence"],
)
def test_unreadable_policies_lower_certainty(demo, verdict, confidence):
    base = demos.load(demo)
    gap = "cannot list networkpolicies in app: forbidden"
    unrelated = evidence_model.Gap("Event", "app", "cannot list events in app: forbidden")
    ev = evidence_model.Evidence.of(
        base.objects,
        incident=base.incident,
        gaps=(unrelated, evidence_model.Gap("NetworkPolicy", "app", gap)),
    )
    finding = network_policy.run(context(ev))
    assert (finding.verdict, finding.confidence) == (verdict, confidence)
    assert any(gap in c.text for c in finding.evidence)
    assert not any("events" in c.text for c in finding.evidence)


def _external(*policies: dict, probes: tuple = ()) -> evidence_model.Evidence:
    from . import build

    objs = (
        build.namespace("app"),
        build.pod("app", "client", {"app": "client"}, "10.0.0.1"),
        *policies,
    )
    incident = evidence_model.Incident(
        source="client", target="db.example.com", port=5432, namespace="app"
    )
    return evidence_model.Evidence.of(objs, incident=incident, probes=probes)


EGRESS_TO_DB = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "to-db", "namespace": "app"},
    "spec": {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/28"}}], "ports": [{"port": 5432}]}],
    },
}


@pytest.mark.parametrize(
    ("address", "verdict"),
    [
        ("203.0.113.10", model.Verdict.RULED_OUT),
        ("198.51.100.7", model.Verdict.CAUSE),
        (None, None),
    ],
    ids=["resolved_inside_the_block", "resolved_outside_the_block", "not_resolved"],
)
def test_external_host_is_checked_at_the_addresses_dns_gave(address, verdict):
    from paramedic.evidence import probes_file

    probes = ()
    if address:
        probes = (
            probes_file.ProbeResult(
                kind="dns",
                target="db.example.com",
                outcome="resolved",
                elapsed_ms=1.0,
                data={"addresses": [address]},
            ),
        )
    finding = network_policy.run(context(_external(EGRESS_TO_DB, probes=probes)))
    if verdict is None:
        assert finding.verdict is model.Verdict.INCONCLUSIVE
        assert "paramedic probe dns db.example.com" in finding.missing
        return
    assert finding.verdict is verdict
    if verdict is model.Verdict.CAUSE:
        (step,) = finding.fix.steps
        assert step.action["object"]["spec"]["egress"][0]["to"] == [
            {"ipBlock": {"cidr": "198.51.100.7/32"}}
        ]


CILIUM_ONLY_ADMIN = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "db-admin-only", "namespace": "data"},
    "spec": {
        "endpointSelector": {"matchLabels": {"app": "profile-db"}},
        "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "admin-tool"}}]}],
        "egress": [{"toFQDNs": [{"matchName": "backup.example.com"}]}],
    },
}


def test_an_unevaluated_part_of_a_cilium_policy_makes_an_allowed_flow_inconclusive():
    """The healthy demo plus a CiliumNetworkPolicy on profile-db: its ingress rule joins the
    NetworkPolicy's (a union on Cilium, so the client is still allowed), but its FQDN rule is
    resolved at run time: the flow is inconclusive, never ruled out."""
    healthy = demos.load("healthy")
    ev = evidence_model.Evidence.of(
        (*healthy.objects, CILIUM_ONLY_ADMIN), incident=healthy.incident
    )
    finding = network_policy.run(context(ev))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert "CiliumNetworkPolicy data/db-admin-only" in finding.summary
    assert finding.missing == (
        "kubectl get ciliumnetworkpolicies.cilium.io db-admin-only -n data -o yaml"
    )
    assert any(c.source == "CiliumNetworkPolicy data/db-admin-only" for c in finding.evidence)
    assert finding.details["unmodelled"][0]["kind"] == "CiliumNetworkPolicy"
    assert "toFQDNs" in finding.details["unmodelled"][0]["why"]
    # the CNI is read from the evidence: its objects say Cilium
    assert finding.details["cni"].startswith("cilium (detected")


def test_a_policy_of_another_namespace_is_not_held_against_the_flow():
    healthy = demos.load("healthy")
    elsewhere = {**CILIUM_ONLY_ADMIN, "metadata": {"name": "x", "namespace": "cache"}}
    ev = evidence_model.Evidence.of((*healthy.objects, elsewhere), incident=healthy.incident)
    assert network_policy.run(context(ev)).verdict is model.Verdict.RULED_OUT


def test_an_admin_deny_is_the_cause_and_named():
    finding = network_policy.run(context(demos.load("admin-deny")))
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.summary.startswith("AdminNetworkPolicy platform-data-isolation blocks ingress")
    assert finding.fix is not None and finding.fix.rollback == (
        "kubectl delete adminnetworkpolicies.policy.networking.k8s.io "
        "allow-user-service-to-profile-db-5432"
    )
    assert finding.details["patch"]["opens_flow"] is True


def test_an_invalid_admin_policy_makes_the_check_inconclusive_naming_the_field():
    healthy = demos.load("healthy")
    bad = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "too-low"},
        "spec": {"priority": 5000, "subject": {"namespaces": {}}},
    }
    ev = evidence_model.Evidence.of((*healthy.objects, bad), incident=healthy.incident)
    finding = network_policy.run(context(ev))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert any(
        "AdminNetworkPolicy too-low is invalid" in c.text and "spec.priority" in c.text
        for c in finding.evidence
    )
