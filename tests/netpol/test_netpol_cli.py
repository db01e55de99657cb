"""`paramedic netpol check|assert|matrix`: JSON shapes and exit codes of DESIGN.md §3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from paramedic.cli import main as cli_main

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


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli_main.main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


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
