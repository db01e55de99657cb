"""A workload without labels cannot be singled out by a PeerAuthentication (Istio reads an empty
selector as namespace-wide): the plaintext exception is offered as an in-place change of the
namespace's own policy instead of a new object that would not apply (found by deep fuzzing)."""

from __future__ import annotations

from paramedic.evidence import model as evidence_model
from paramedic.netpol import engine, matrix, patch, peers

OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
    {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "a"},
        "spec": {"containers": [{"name": "main"}], "hostNetwork": True},
        "status": {"hostIP": "192.168.0.1", "podIP": "192.168.0.1"},
    },
    {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "a"},
        "spec": {"containers": [{"name": "main"}, {"name": "istio-proxy"}]},
        "status": {"hostIP": "192.168.0.2", "podIP": "10.0.0.5"},
    },
    {
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"namespace": "a", "name": "strict"}, "spec": {"mtls": {"mode": "STRICT"}},
    },
]  # fmt: skip


def test_the_namespace_policy_is_edited_in_place_not_shadowed_by_an_empty_selector() -> None:
    ev = evidence_model.Evidence.of(OBJECTS)
    by_name = {p["metadata"]["name"]: p for p in matrix.ordered_pods(ev)}
    src, dst = peers.Peer.pod(by_name["client"]), peers.Peer.pod(by_name["db"])
    result = engine.check_flow(ev, src, dst, 5432)
    assert not result.allowed
    fix = patch.minimal_patch(ev, result, src, dst, 5432, "TCP")
    assert not any(o.get("kind") == "PeerAuthentication" for o in fix.objects)
    (edit,) = [p for p in fix.in_place if p.target == "PeerAuthentication a/strict"]
    assert edit.patch == ({"op": "add", "path": "/spec/mtls", "value": {"mode": "PERMISSIVE"}},)
    assert edit.opened >= 1
