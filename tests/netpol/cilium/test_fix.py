"""Fixes in Cilium's terms, through the one patch / blast-radius path: a new
CiliumNetworkPolicy for a pod in default deny, the narrowed deny rule (with its undo) when a deny
rule matched; each opens exactly the flow, and the manifests are ones kubectl accepts."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from paramedic.evidence import model as evidence_model
from paramedic.netpol import engine, patch, peers

BUNDLE = Path(__file__).parent / "conformance" / "objects.yaml"


def _evidence(*extra: dict[str, Any]) -> evidence_model.Evidence:
    items = yaml.load(BUNDLE.read_text(), Loader=yaml.CSafeLoader)["items"]
    return evidence_model.Evidence.of((*items, *extra))


def _fix(ev: evidence_model.Evidence, src: str, dst: str, port: int) -> patch.Patch:
    semantics, _ = engine.semantics_for(ev)
    source = peers.resolve(ev, src, source=True)[0].peer
    (target,) = peers.resolve(ev, dst, port)
    result = engine.check_flow(ev, source, target.peer, target.port, "TCP", semantics)
    assert not result.allowed
    return patch.minimal_patch(ev, result, source, target.peer, target.port, "TCP", semantics)


def test_a_deny_rule_is_narrowed_to_leave_out_exactly_the_client() -> None:
    fix = _fix(_evidence(), "dev/tester", "db/redis-0", 6379)
    assert fix.objects == () and fix.opens_flow
    assert [f.describe() for f in fix.blast_radius] == ["dev/tester -> db/redis-0 TCP/6379"]
    (edit,) = fix.edits
    assert edit.target == "CiliumClusterwideNetworkPolicy no-dev-into-db"
    assert edit.op["path"] == "/spec/ingressDeny/0"
    assert edit.op["value"]["fromEndpoints"][0]["matchExpressions"] == [
        {"key": "app", "operator": "NotIn", "values": ["tester"]}
    ]
    assert edit.undo["value"] == {
        "fromEndpoints": [{"matchLabels": {"io.cilium.k8s.namespace.labels.env": "dev"}}]
    }
    assert edit.command.startswith(
        "kubectl patch ciliumclusterwidenetworkpolicies.cilium.io no-dev-into-db --type=json -p '"
    )


def test_a_cidr_deny_gets_an_except_for_the_address() -> None:
    fix = _fix(_evidence(), "shop/frontend", "203.0.113.9", 443)
    (edit,) = fix.edits
    assert edit.op["path"] == "/specs/0/egressDeny/0"
    assert edit.op["value"] == {"toCIDRSet": [{"cidr": "203.0.113.0/24",
                                               "except": ["203.0.113.9/32"]}]}  # fmt: skip
    assert fix.opens_flow and len(fix.blast_radius) == 1
    assert "-n shop patch ciliumnetworkpolicies.cilium.io frontend" in edit.undo_command


def test_default_deny_is_opened_by_a_new_policy_per_blocked_side() -> None:
    fix = _fix(_evidence(), "shop/frontend", "db/postgres-0", 5432)
    assert fix.opens_flow and fix.edits == ()
    assert [f.describe() for f in fix.blast_radius] == ["shop/frontend -> db/postgres-0 TCP/5432"]
    egress, ingress = fix.objects
    assert egress["metadata"] == {"name": "allow-frontend-to-postgres-5432", "namespace": "shop"}
    assert egress["spec"] == {
        "endpointSelector": {"matchLabels": {"app": "frontend"}},
        "egress": [{"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "db",
                                                     "app": "postgres"}}],
                    "toPorts": [{"ports": [{"port": "pg", "protocol": "TCP"}]}]}],
    }  # fmt: skip
    assert ingress["spec"]["ingress"][0]["fromEndpoints"] == [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "shop", "app": "frontend"}}
    ]


def test_a_node_is_admitted_by_its_entity_and_the_note_says_so() -> None:
    fix = _fix(_evidence(), "192.168.0.1", "db/postgres-0", 5432)
    (policy,) = fix.objects
    assert policy["spec"]["ingress"][0]["fromEntities"] == ["remote-node"]
    assert fix.opens_flow and any("CIDR rules never match nodes" in n for n in fix.notes)


def test_an_entity_deny_cannot_be_narrowed_and_says_what_to_edit() -> None:
    spec = {"endpointSelector": {}, "ingressDeny": [{"fromEntities": ["world"]}]}
    world = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
             "metadata": {"name": "no-world", "namespace": "monitoring"}, "spec": spec}  # fmt: skip
    fix = _fix(_evidence(world), "203.0.113.9", "monitoring/prometheus", 9090)
    assert fix.edits == () and not fix.opens_flow
    assert any("ingressDeny[0] cannot be narrowed automatically" in n for n in fix.notes)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_accepts_the_printed_manifests() -> None:
    fix = _fix(_evidence(), "shop/frontend", "db/postgres-0", 5432)
    done = subprocess.run(
        [str(shutil.which("kubectl")), "label", "--local", "-f", "-", "checked-by=paramedic",
         "-o", "json"],
        input=fix.yaml, capture_output=True, text=True, timeout=30,
        env={"KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"kind": "CiliumNetworkPolicy"') == 2  # both objects, two documents
