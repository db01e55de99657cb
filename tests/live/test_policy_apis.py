"""Policy APIs beyond NetworkPolicy, live: one discovery request says which the cluster serves;
served ones are listed (cluster-scoped cluster-wide, namespaced in the two namespaces) in the
same waves; an unserved API is never asked for; 403 becomes a gap; the check sees them."""

from __future__ import annotations

import copy
from pathlib import Path

from paramedic.checks import model
from paramedic.evidence import demos
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

from . import fakeapi, livekit

ANP = {
    "apiVersion": "policy.networking.k8s.io/v1alpha1",
    "kind": "AdminNetworkPolicy",
    "metadata": {"name": "data-guard"},
    "spec": {
        "priority": 5,
        "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "data"}}},
        "ingress": [{"action": "Pass", "from": [{"namespaces": {}}]}],
    },
}


def _cnp(namespace: str) -> dict:  # type: ignore[type-arg]
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "lock", "namespace": namespace},
        # its FQDN rule is resolved at run time: evaluated as far as it goes, and named
        "spec": {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "x.example"}]}]},
    }


def _server() -> fakeapi.FakeApiServer:
    objects = [*livekit.seed_objects(), copy.deepcopy(ANP), _cnp("data"), _cnp("cache")]
    return fakeapi.FakeApiServer(objects)


def _policy_requests(server: fakeapi.FakeApiServer) -> list[str]:
    return [p for _, p in server.requests if "policy.networking.k8s.io" in p or "cilium.io" in p]


def test_served_policy_apis_are_gathered_in_scope_and_reach_the_check(tmp_path: Path) -> None:
    with _server() as server:
        ev = livekit.gather(server.kubeconfig(tmp_path / "k", namespace="app"))
        discovery = [p for _, p in server.requests if p == "/apis"]
    assert len(discovery) == 1
    assert [o["metadata"]["name"] for o in ev.kind("AdminNetworkPolicy")] == ["data-guard"]
    assert [o["metadata"]["namespace"] for o in ev.kind("CiliumNetworkPolicy")] == ["data"]
    assert not [g for g in map(str, ev.gaps) if "policies" in g and "network" not in g]
    assert ev.incident is not None
    runbook = runbook_model.builtin("db-connectivity")
    (finding,) = [
        f for f in engine.run(runbook, ev, ev.incident).findings if f.check == "network-policy"
    ]
    # the reference incident is an egress NetworkPolicy block; the CNP is named, not ignored
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.confidence is model.Confidence.MEDIUM
    assert any("CiliumNetworkPolicy data/lock" in c.text for c in finding.evidence)


def test_an_api_the_cluster_does_not_serve_is_never_asked_for(tmp_path: Path) -> None:
    with _server() as server:
        known = {gv for gv, _ in fakeapi.RESOURCES if "/" in gv}
        server.served = {gv for gv in known if "policy.networking" not in gv and "cilium" not in gv}
        ev = livekit.gather(server.kubeconfig(tmp_path / "k", namespace="app"))
        asked = _policy_requests(server)
    assert asked == []
    assert ev.kind("AdminNetworkPolicy") == () and ev.kind("CiliumNetworkPolicy") == ()
    assert not [g for g in map(str, ev.gaps) if "cilium" in g or "adminnetwork" in g]


def test_a_forbidden_policy_list_is_a_gap_not_a_crash(tmp_path: Path) -> None:
    with _server() as server:
        server.forbidden.add(("list", "adminnetworkpolicies", None))
        ev = livekit.gather(server.kubeconfig(tmp_path / "k", namespace="app"))
    (gap,) = [g for g in ev.gaps if "adminnetworkpolicies" in str(g)]
    assert gap.kind == "AdminNetworkPolicy.policy.networking.k8s.io"
    assert str(gap).startswith(
        "cannot list adminnetworkpolicies.policy.networking.k8s.io: forbidden"
    )
    assert [o["metadata"]["namespace"] for o in ev.kind("CiliumNetworkPolicy")] == ["data"]


def test_policies_of_other_cnis_are_gathered_and_keep_the_check_from_ruling_out(
    tmp_path: Path,
) -> None:
    """Antrea's and GKE's policy objects are not evaluated, but live gathering must fetch them
    (in scope, like the rest) so the check names them instead of saying "ruled out"."""
    antrea = {
        "apiVersion": "crd.antrea.io/v1beta1",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": "isolate-data"},
        "spec": {"priority": 1, "tier": "securityops", "appliedTo": [{"podSelector": {}}]},
    }
    fqdn = {
        "apiVersion": "networking.gke.io/v1alpha3",
        "kind": "FQDNNetworkPolicy",
        "metadata": {"name": "egress-names", "namespace": "app"},
        "spec": {"podSelector": {}, "egress": [{"to": [{"fqdns": ["x.example"]}]}]},
    }
    objects = [*copy.deepcopy(demos.load("healthy").objects), antrea, fqdn]
    with fakeapi.FakeApiServer(objects) as server:
        ev = livekit.gather(server.kubeconfig(tmp_path / "k", namespace="app"))
    assert [o["metadata"]["name"] for o in ev.kind("ClusterNetworkPolicy")] == ["isolate-data"]
    assert [o["metadata"]["name"] for o in ev.kind("FQDNNetworkPolicy")] == ["egress-names"]
    assert ev.incident is not None
    runbook = runbook_model.builtin("db-connectivity")
    (finding,) = [
        f for f in engine.run(runbook, ev, ev.incident).findings if f.check == "network-policy"
    ]
    assert finding.verdict is model.Verdict.INCONCLUSIVE, finding.summary
    texts = [c.text for c in finding.evidence]
    assert any("isolate-data: an Antrea policy" in t for t in texts), texts
    assert any("egress-names: a GKE FQDN network policy" in t for t in texts), texts
