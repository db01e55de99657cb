"""Istio objects Istio's validation rejects: one line naming object and field, exit 2 from
`netpol` commands, *inconclusive* from the check; and the facts `mesh` reads from pods."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clirun import run
from paramedic.checks import model, network_policy
from paramedic.evidence import demos
from paramedic.evidence import model as evidence_model
from paramedic.kube import resolve
from paramedic.netpol.istio import mesh, resources

HERE = Path(__file__).parent / "conformance"


def authz(spec: Any, namespace: str = "data") -> dict[str, Any]:
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"namespace": namespace, "name": "broken"}, "spec": spec}  # fmt: skip


def peer(spec: Any) -> dict[str, Any]:
    return {"apiVersion": "security.istio.io/v1beta1", "kind": "PeerAuthentication",
            "metadata": {"namespace": "data", "name": "broken"}, "spec": spec}  # fmt: skip


BAD = [
    (authz({"action": "REJECT"}), "spec.action: unknown action 'REJECT'"),
    (authz({"action": "CUSTOM"}), "spec.provider: a CUSTOM policy must name its provider"),
    (authz({"rules": [{"to": [{"operation": {"ports": ["postgres"]}}]}]}),
     "spec.rules[0].to[0].operation.ports: 'postgres' is not a port number 0-65535"),
    (authz({"rules": [{"from": [{"source": {"ipBlocks": ["10.0.0.300/8"]}}]}]}),
     "spec.rules[0].from[0].source.ipBlocks: '10.0.0.300/8' is not an IP address or CIDR"),
    (authz({"rules": [{"from": [{"source": {}}]}]}),
     "spec.rules[0].from[0].source: must be set and not empty"),
    (authz({"rules": [{"when": [{"key": "source.colour", "values": ["red"]}]}]}),
     "spec.rules[0].when[0].key: unknown attribute 'source.colour'"),
    (authz({"rules": [{"when": [{"key": "source.ip"}]}]}),
     "spec.rules[0].when[0]: needs values or notValues"),
    (authz({"selector": {"matchLabels": ["app"]}}),
     "spec.selector.matchLabels: must be a map of label to value"),
    (authz({"selector": {"matchLabels": {"app": "db"}}, "targetRefs": [{"kind": "Service"}]}),
     "spec.selector: cannot be set together with targetRef(s)"),
    (peer({"mtls": {"mode": "STRICTEST"}}), "spec.mtls.mode: unknown mode 'STRICTEST'"),
    (peer({"portLevelMtls": {"5432": {"mode": "PERMISSIVE"}}}),
     "spec.portLevelMtls: applies only to a policy with a selector"),
    (peer({"selector": {"matchLabels": {"app": "db"}},
           "portLevelMtls": {"pg": {"mode": "STRICT"}}}),
     "spec.portLevelMtls[pg]: not a port number 1-65535"),
    (authz({"rules": {"from": []}}), "spec.rules: must be a list"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "line"), BAD)
def test_bad_istio_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, obj: dict[str, Any], line: str
) -> None:
    pods = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": ns, "name": name},
         "spec": {"containers": [{"name": "c"}, {"name": "istio-proxy"}]},
         "status": {"podIP": ip}}
        for ns, name, ip in (("app", "client", "10.0.0.1"), ("data", "db", "10.0.0.2"))
    ]  # fmt: skip
    bundle = tmp_path / "objects.json"
    bundle.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [*pods, obj]}))
    for argv in (
        ("netpol", "check", str(bundle), "--from", "app/client", "--to", "data/db", "--port", "1"),
        ("netpol", "matrix", str(bundle), "--port", "80"),
        ("netpol", "assert", str(bundle), str(HERE / "expectations.yaml")),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"{obj['kind']} data/broken is invalid" in err and line in err


def test_a_bad_authorization_policy_makes_the_check_inconclusive_naming_the_field() -> None:
    healthy = demos.load("healthy")
    bad = authz({"rules": [{"to": [{"operation": {"ports": ["pg"]}}]}]})
    ev = evidence_model.Evidence.of((*healthy.objects, bad), incident=healthy.incident)
    assert ev.incident is not None
    scope = resolve.resolve(ev, ev.incident, default_port=5432)
    finding = network_policy.run(model.Context(evidence=ev, scope=scope))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert any(
        "AuthorizationPolicy data/broken is invalid" in c.text and "operation.ports" in c.text
        for c in finding.evidence
    )


def test_every_field_of_a_valid_policy_is_read() -> None:
    parsed = resources.authorization_policy(
        authz({"action": "DENY", "selector": {"matchLabels": {"app": "db"}},
               "rules": [{"from": [{"source": {"notPrincipals": ["a/ns/b/sa/c"],
                                               "remoteIpBlocks": ["10.0.0.0/8"]}}],
                          "to": [{"operation": {"notPorts": ["22"], "paths": ["/x"]}}],
                          "when": [{"key": "request.headers[x]", "notValues": ["y"]}]}]})
    )  # fmt: skip
    assert isinstance(parsed, resources.AuthorizationPolicy)
    (rule,) = parsed.rules
    assert rule.sources is not None and rule.operations is not None
    assert [(c.field, c.meaning, c.negated) for c in rule.sources[0]] == [
        ("notPrincipals", "principal", True),
        ("remoteIpBlocks", "ip", False),
    ]
    assert [(c.meaning, c.negated) for c in rule.operations[0]] == [
        ("port", True),
        ("http", False),
    ]
    assert [(c.field, c.meaning, c.negated) for c in rule.when] == [
        ("when[request.headers[x]] notValues", "http", True)
    ]


@pytest.mark.parametrize(
    ("spec", "namespace_labels", "expected"),
    [
        ({"containers": [{"name": "app"}, {"name": "istio-proxy"}]}, {}, True),
        ({"initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}]}, {}, True),
        ({"initContainers": [{"name": "istio-proxy"}]}, {}, False),
        ({"containers": [{"name": "app"}]}, {"istio-injection": "enabled"}, False),
    ],
)
def test_a_pod_has_a_sidecar_only_when_it_runs_the_proxy(spec, namespace_labels, expected):
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    assert mesh.has_sidecar(pod, namespace_labels) is expected


@pytest.mark.parametrize(
    ("template_labels", "namespace_labels", "expected"),
    [
        ({}, {"istio-injection": "enabled"}, True),
        ({}, {"istio.io/rev": "canary"}, True),
        ({"sidecar.istio.io/inject": "false"}, {"istio-injection": "enabled"}, False),
        ({"sidecar.istio.io/inject": "true"}, {}, True),
        ({}, {}, False),
    ],
)
def test_a_workload_template_gets_a_sidecar_when_injection_is_on(
    template_labels, namespace_labels, expected
):
    deployment = {"kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"template": {"metadata": {"labels": template_labels},
                                        "spec": {"containers": [{"name": "app"}]}}}}  # fmt: skip
    assert mesh.has_sidecar(deployment, namespace_labels) is expected


def test_the_mesh_config_names_root_namespace_and_trust_domain() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"namespace": "istio-system", "name": "istio"},
                  "data": {"mesh": "rootNamespace: mesh-root\ntrustDomain: corp.example\n"
                                   "trustDomainAliases: [old.example]\n"}}  # fmt: skip
    found = mesh.config((config_map,))
    assert (found.root_namespace, found.trust_domains) == (
        "mesh-root",
        ("corp.example", "old.example"),
    )
    broken = {**config_map, "data": {"mesh": "{"}}
    assert mesh.config((broken,)).trust_domain == "cluster.local"
    assert mesh.config(()).root_namespace == "istio-system"
