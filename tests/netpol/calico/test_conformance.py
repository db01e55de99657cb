"""The Calico conformance set: a bundle and expected flows, each derived from a statement of
Calico's reference docs, run through `paramedic netpol assert` as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import run

from .. import conformance

HERE = Path(__file__).parent / "conformance"
BUNDLE, EXPECTATIONS = HERE / "objects.yaml", HERE / "expectations.yaml"


@pytest.mark.parametrize("cni", ["auto", "calico"])
def test_every_documented_flow_holds(capsys: pytest.CaptureFixture[str], cni: str) -> None:
    code, results = conformance.assert_flows(capsys, BUNDLE, EXPECTATIONS, cni)
    assert conformance.failing(results) == [] and code == 0
    assert len(results) == 19


def test_the_set_tells_calico_from_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    """Read as plain Kubernetes NetworkPolicy, many expectations fail: the set is not vacuous."""
    code, results = conformance.assert_flows(capsys, BUNDLE, EXPECTATIONS, "upstream")
    assert code == 1
    assert len(conformance.failing(results)) >= 5


def test_a_check_names_the_deciding_tier_policy_and_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "netpol", "check", str(BUNDLE), "--from", "dev/tester", "--to",
        "db/postgres-0", "--port", "5432", "-o", "json",
    )  # fmt: skip
    answer = json.loads(out)
    assert code == 1 and answer["allowed"] is False
    (layer,) = [entry for entry in answer["layers"] if not entry["allowed"]]
    assert layer["layer"] == "calico"
    assert layer["decided_by"] == {
        "kind": "GlobalNetworkPolicy",
        "namespace": None,
        "name": "security.db-guard",
        "tier": "security",
        "order": 10.0,
        "rule": "ingress rule 0",
    }
    assert any(u["name"] == "deny-everything" for u in answer["unmodelled"])


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ({"selector": "app = 'x'"}, "spec.selector: cannot parse selector \"app = 'x'\": "
         "expected '==', found '=' alone at column 5"),
        ({"ingress": [{"action": "Reject"}]}, "spec.ingress[0].action: unknown action 'Reject'"),
        ({"ingress": [{"action": "Allow", "protocol": "TCP",
                       "destination": {"ports": ["2000:1000"]}}]},
         "spec.ingress[0].destination.ports[0]: bad port range '2000:1000'"),
    ],
)  # fmt: skip
def test_bad_calico_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: dict[str, object], line: str
) -> None:
    broken = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
              "metadata": {"name": "broken"}, "spec": spec}  # fmt: skip
    bundle = tmp_path / "objects.json"
    bundle.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [broken]}))
    for argv in (
        ("netpol", "check", str(bundle), "--from", "1.2.3.4", "--to", "5.6.7.8", "--port", "1"),
        ("netpol", "matrix", str(bundle), "--port", "80"),
        ("netpol", "assert", str(bundle), str(EXPECTATIONS)),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "GlobalNetworkPolicy broken" in err and line in err
