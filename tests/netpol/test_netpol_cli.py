"""`paramedic netpol check|assert|matrix`: JSON shapes and exit codes of DESIGN.md §3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clirun import run

from . import build

OBJECTS = [
    build.namespace("x"),
    build.namespace("y"),
    build.pod("x", "a", {"app": "a"}, "10.0.0.1", ports=[{"name": "http", "containerPort": 8080}]),
    build.pod("y", "b", {"app": "b"}, "10.0.0.2", ports=[{"name": "http", "containerPort": 8080}]),
    build.service("y", "b-svc", {"app": "b"}, [{"port": 80, "targetPort": "http"}]),
    build.policy(
        "y",
        "only-x",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "x"}}}
                    ],
                    "ports": [{"port": "http"}],
                }
            ],
        },
    ),
]


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": OBJECTS}))
    return path


@pytest.mark.parametrize(
    ("src", "dst", "port", "code", "allowed"),
    [
        ("x/a", "y/b", "8080", 0, True),
        ("x/a", "y/b-svc", "80", 0, True),
        ("x/a", "y/b", "http", 0, True),
        ("203.0.113.9", "y/b", "8080", 1, False),
        ("x/a", "y/b", "9090", 1, False),
    ],
    ids=[
        "pod",
        "service_port_to_target_port",
        "named_port",
        "outside_ip_denied",
        "other_port_denied",
    ],
)
def test_check_json_and_exit_code(capsys, bundle, src, dst, port, code, allowed):
    got, out, _ = run(
        capsys,
        "netpol",
        "check",
        str(bundle),
        "--from",
        src,
        "--to",
        dst,
        "--port",
        port,
        "-o",
        "json",
    )
    doc = json.loads(out)
    assert got == code and doc["allowed"] is allowed
    assert set(doc["ingress"]) >= {"isolated", "policies", "allowed_by", "reason"}
    assert doc["ingress"]["policies"] == ["NetworkPolicy y/only-x"]
    if allowed:
        assert doc["ingress"]["allowed_by"] == {"policy": "NetworkPolicy y/only-x", "rule": 0}


def test_check_text_explains_each_direction(capsys, bundle):
    code, out, _ = run(
        capsys,
        "netpol",
        "check",
        str(bundle),
        "--from",
        "203.0.113.9",
        "--to",
        "y/b",
        "--port",
        "8080",
    )
    assert code == 1
    assert (
        out.startswith("DENIED")
        and "egress" in out
        and "no ingress rule selects the source IP" in out
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "x/nope", "--to", "y/b", "--port", "80"], "no Pod or Service 'nope'"),
        (["--from", "x/a", "--to", "y/b", "--port", "pg"], "no TCP port named 'pg'"),
        (["--from", "x/a", "--to", "not-an-ip", "--port", "80"], "not an IP address"),
    ],
    ids=["unknown_peer", "unknown_named_port", "bad_ip"],
)
def test_check_input_errors_exit_2_with_one_line(capsys, bundle, argv, message):
    code, out, err = run(capsys, "netpol", "check", str(bundle), *argv)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_invalid_policy_in_the_bundle_exits_2_naming_it(capsys, tmp_path):
    bad = build.policy("y", "broken", {"podSelector": {}, "ingress": [{"from": [{}]}]})
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all([*OBJECTS, bad]))
    code, _, err = run(capsys, "netpol", "matrix", str(path), "--port", "80")
    assert code == 2 and "NetworkPolicy y/broken is invalid" in err and "must specify a peer" in err


@pytest.mark.parametrize(
    ("items", "code", "oks"),
    [
        ([{"from": "x/a", "to": "y/b", "port": 8080, "allowed": True}], 0, [True]),
        (
            [
                {"from": "x/a", "to": "y/b", "port": "http", "allowed": True, "why": "api"},
                {
                    "from": "203.0.113.9",
                    "to": "y/b-svc",
                    "port": 80,
                    "protocol": "TCP",
                    "allowed": True,
                    "name": "lb",
                },
            ],
            1,
            [True, False],
        ),
    ],
    ids=["all_hold", "one_fails"],
)
def test_assert_json_in_input_order_with_extra_keys_echoed(
    capsys, bundle, tmp_path, items, code, oks
):
    exp = tmp_path / "expectations.yaml"
    exp.write_text(yaml.safe_dump(items))
    got, out, _ = run(capsys, "netpol", "assert", str(bundle), str(exp), "-o", "json")
    results = json.loads(out)["results"]
    assert got == code and [r["ok"] for r in results] == oks
    for item, result in zip(items, results, strict=True):
        assert {k: result[k] for k in ("from", "to", "port")} == {
            k: item[k] for k in ("from", "to", "port")
        }
        assert result["protocol"] == "TCP" and result["expected"] is item["allowed"]
        assert all(result[k] == v for k, v in item.items() if k not in ("allowed",))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- {from: x/a, to: y/b}\n", "missing port, allowed"),
        ("{}\n", "expected a list"),
        ("- {from: x/a, to: y/b, port: 80, allowed: maybe}\n", "allowed must be true or false"),
        ("", "no expectations"),
        ("[]\n", "no expectations"),
    ],
    ids=["missing_keys", "not_a_list", "allowed_not_bool", "empty_file", "empty_list"],
)
def test_assert_bad_expectations_exit_2(capsys, bundle, tmp_path, content, message):
    exp = tmp_path / "e.yaml"
    exp.write_text(content)
    code, _, err = run(capsys, "netpol", "assert", str(bundle), str(exp))
    assert code == 2 and message in err


def test_matrix_json_shape(capsys, bundle):
    code, out, _ = run(capsys, "netpol", "matrix", str(bundle), "--port", "8080", "-o", "json")
    assert code == 0
    assert json.loads(out) == {"pods": ["x/a", "y/b"], "allowed": [[1, 1], [1, 1]]}


def test_matrix_cilium_semantics_switch(capsys, tmp_path):
    objs = [
        *OBJECTS[:4],
        build.policy(
            "y",
            "cidr",
            {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}]}]},
        ),
    ]
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(objs))
    _, up, _ = run(capsys, "netpol", "matrix", str(path), "--port", "80", "-o", "json")
    _, cil, _ = run(
        capsys, "netpol", "matrix", str(path), "--port", "80", "--cni", "cilium", "-o", "json"
    )
    assert json.loads(up)["allowed"] == [[1, 1], [1, 1]]
    assert json.loads(cil)["allowed"] == [[1, 0], [1, 1]]


def _write(tmp_path: Path, *extra: dict) -> Path:
    path = tmp_path / "layered.yaml"
    items = [*OBJECTS, *extra]
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


DENY_X = build.admin_policy(
    "deny-x",
    7,
    {
        "subject": {"namespaces": build.in_namespace("y")},
        "ingress": [{"name": "no-x", "action": "Deny", "from": [{"namespaces": {}}]}],
    },
)


def test_check_json_has_layers_in_path_order_and_names_the_deciding_rule(capsys, tmp_path):
    args = ("--from", "x/a", "--to", "y/b", "--port", "8080", "-o", "json")
    code, out, _ = run(capsys, "netpol", "check", str(_write(tmp_path, DENY_X)), *args)
    doc = json.loads(out)
    assert code == 1 and doc["allowed"] is False
    assert [e["layer"] for e in doc["layers"]] == ["admin"]
    (admin,) = doc["layers"]
    assert admin["allowed"] is False and admin["decided_by"]["name"] == "deny-x"
    assert admin["decided_by"]["rule"] == 'ingress rule 0 "no-x"'
    assert doc["unmodelled"] == [] and doc["cni"].startswith("upstream (detected")


def test_check_text_names_layer_object_rule_and_what_is_not_evaluated(capsys, tmp_path):
    cnp = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "lock", "namespace": "y"},
        "spec": {"endpointSelector": {}},
    }
    bundle = _write(tmp_path, DENY_X, cnp)
    code, out, _ = run(
        capsys,
        "netpol",
        "check",
        str(bundle),
        "--from",
        "x/a",
        "--to",
        "y/b",
        "--port",
        "8080",
        "--cni",
        "upstream",
    )
    assert code == 1
    assert (
        "  decided  denied in layer admin by AdminNetworkPolicy deny-x, priority 7, "
        'ingress rule 0 "no-x": Deny'
    ) in out
    assert "NOT EVALUATED CiliumNetworkPolicy y/lock" in out
    assert "kubectl get ciliumnetworkpolicies.cilium.io lock -n y -o yaml" in out
    assert "cni      upstream (as given by --cni)" in out


def test_an_invalid_admin_policy_is_one_line_naming_object_and_field_exit_2(capsys, tmp_path):
    bad = build.admin_policy("bad", -1, {"subject": {"namespaces": {}}})
    code, out, err = run(capsys, "netpol", "matrix", str(_write(tmp_path, bad)), "--port", "8080")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "AdminNetworkPolicy bad" in err
    assert "spec.priority: -1 is out of range (0-1000)" in err
