"""The Cilium conformance set: a bundle and expected flows, each derived from a statement of
Cilium's policy documentation, run through `paramedic netpol assert` as a user would; and bad
Cilium input as one line naming the object and the field (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import run

from .. import conformance

HERE = Path(__file__).parent / "conformance"
BUNDLE, EXPECTATIONS = HERE / "objects.yaml", HERE / "expectations.yaml"


@pytest.mark.parametrize("cni", ["auto", "cilium"])
def test_every_documented_flow_holds(capsys: pytest.CaptureFixture[str], cni: str) -> None:
    code, results = conformance.assert_flows(capsys, BUNDLE, EXPECTATIONS, cni)
    assert conformance.failing(results) == [] and code == 0
    assert len(results) == 27


def test_the_set_tells_cilium_from_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    """Read as plain Kubernetes NetworkPolicy, half the expectations fail: it is not vacuous."""
    code, results = conformance.assert_flows(capsys, BUNDLE, EXPECTATIONS, "upstream")
    assert code == 1
    assert len(conformance.failing(results)) >= 10


def test_a_check_names_the_deny_rule_that_beats_the_networkpolicy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "netpol", "check", str(BUNDLE), "--from", "dev/tester", "--to", "db/redis-0",
        "--port", "6379", "-o", "json",
    )  # fmt: skip
    answer = json.loads(out)
    assert code == 1 and answer["allowed"] is False
    assert answer["cni"] == "cilium (detected: DaemonSet kube-system/cilium is its agent)"
    (layer,) = answer["layers"]
    assert layer["layer"] == "cilium" and layer["allowed"] is False
    assert layer["decided_by"] == {
        "kind": "CiliumClusterwideNetworkPolicy",
        "namespace": None,
        "name": "no-dev-into-db",
        "tier": "cilium-deny",
        "order": None,
        "rule": "ingressDeny[0]",
    }
    assert answer["unmodelled"] == []


def test_a_specs_rule_is_named_with_its_place(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "netpol", "check", str(BUNDLE), "--from", "shop/frontend", "--to",
        "203.0.113.9", "--port", "443",
    )  # fmt: skip
    assert code == 1
    decided = "CiliumNetworkPolicy shop/frontend, tier cilium-deny, specs[0].egressDeny[0]: Deny"
    assert decided in out


CNP = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
       "metadata": {"name": "broken", "namespace": "db"}}  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ({"endpointSelector": {}, "ingress": [{"fromEntities": ["everyone"]}]},
         "spec.ingress[0].fromEntities[0]: unsupported entity 'everyone'"),
        ({"endpointSelector": {}, "egress": [{"toPorts": [{"ports": [{"port": "70000"}]}]}]},
         "spec.egress[0].toPorts[0].ports[0].port: 70000 must be between 0 and 65535"),
        ({"endpointSelector": {}, "egress": [{"toPorts": [{"ports": [{"port": "80",
                                                                     "protocol": "HTTP"}]}]}]},
         "spec.egress[0].toPorts[0].ports[0].protocol: unsupported value 'HTTP'"),
        ({"endpointSelector": {}, "ingress": [{"fromCIDRSet": [{"cidr": "10.0.0.0/8",
                                                               "except": ["11.0.0.0/16"]}]}]},
         "spec.ingress[0].fromCIDRSet[0].except[0]: 11.0.0.0/16 is not inside cidr 10.0.0.0/8"),
        ({"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}], "fromCIDR": ["1.2.3.4"]}]},
         "spec.ingress[0]: combining fromEndpoints and fromCIDR is not supported"),
        ({"ingress": [{}]}, "spec: needs exactly one of endpointSelector and nodeSelector"),
        ({"endpointSelector": {"matchExpressions": [{"key": "app", "operator": "Near"}]}},
         "spec.endpointSelector.matchExpressions[0]: unknown operator 'Near'"),
    ],
)  # fmt: skip
def test_bad_cilium_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: dict[str, object], line: str
) -> None:
    bundle = tmp_path / "objects.json"
    items = [{**CNP, "spec": spec}]
    bundle.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    for argv in (
        ("netpol", "check", str(bundle), "--from", "1.2.3.4", "--to", "5.6.7.8", "--port", "1"),
        ("netpol", "matrix", str(bundle), "--port", "80"),
        ("netpol", "assert", str(bundle), str(EXPECTATIONS)),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "CiliumNetworkPolicy db/broken" in err and line in err
