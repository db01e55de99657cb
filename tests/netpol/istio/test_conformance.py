"""The Istio conformance set: a bundle and expected TCP flows, each derived from a statement of
Istio's reference docs or its authorization builder, run through `paramedic netpol assert`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clirun import run

from .. import conformance

HERE = Path(__file__).parent / "conformance"
BUNDLE, EXPECTATIONS = HERE / "objects.yaml", HERE / "expectations.yaml"


@pytest.mark.parametrize("cni", ["auto", "upstream", "calico"])
def test_every_documented_flow_holds(capsys: pytest.CaptureFixture[str], cni: str) -> None:
    """The mesh is its own enforcement point: whatever CNI is assumed, the answers hold."""
    code, results = conformance.assert_flows(capsys, BUNDLE, EXPECTATIONS, cni)
    assert conformance.failing(results) == [] and code == 0
    assert len(results) == 20


def test_the_set_is_not_vacuous(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Without the Istio objects, many expectations fail."""
    items = yaml.safe_load(BUNDLE.read_text())["items"]
    bare = [o for o in items if not str(o["apiVersion"]).startswith("security.istio.io")]
    bundle = tmp_path / "objects.json"
    bundle.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": bare}))
    code, results = conformance.assert_flows(capsys, bundle, EXPECTATIONS)
    assert code == 1
    assert len(conformance.failing(results)) >= 8


def test_a_check_names_the_mtls_policy_and_lists_what_it_cannot_evaluate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "netpol", "check", str(BUNDLE), "--from", "plain/client", "--to",
        "data/postgres-0", "--port", "5432", "-o", "json",
    )  # fmt: skip
    answer = json.loads(out)
    assert code == 1 and answer["allowed"] is False
    by_layer = {entry["layer"]: entry for entry in answer["layers"]}
    assert by_layer["networkpolicy"]["allowed"] is True
    assert by_layer["istio"]["allowed"] is False
    assert by_layer["istio"]["decided_by"] == {
        "kind": "PeerAuthentication",
        "namespace": None,
        "name": "istio-system/default",
        "tier": "istio-mtls",
        "order": None,
        "rule": "mtls STRICT: plaintext refused (the client has no sidecar)",
    }
    assert {u["name"] for u in answer["unmodelled"]} == {"waypoint-deny", "pg-newer"}


def test_the_matrix_agrees_with_the_per_pair_answers(capsys: pytest.CaptureFixture[str]) -> None:
    from paramedic.evidence import bundle as bundle_io
    from paramedic.netpol import engine, matrix, peers

    evidence = bundle_io.load(BUNDLE)
    for port in (5432, 9187, 8080, 9090, 9999, 6379):
        answer = matrix.matrix(evidence, port, "TCP")
        names, rows = answer.pods, answer.rows
        for i, a in enumerate(names):
            src = peers.resolve(evidence, a, source=True)[0].peer
            for j, b in enumerate(names):
                (dst,) = peers.resolve(evidence, b, port)
                expected = engine.check_flow(evidence, src, dst.peer, dst.port).allowed
                assert bool(rows[i] >> j & 1) == expected, (a, b, port)
