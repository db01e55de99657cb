"""The `dns` check, on the shipped demos and on variants of them made by editing objects."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import checkctx
import pytest

from paramedic.checks import dns, dns_names, model, network_policy
from paramedic.evidence import demos, probes_file
from paramedic.kube import objects

Objects = list[dict[str, Any]]


def _pods(objects: Objects, namespace: str, prefix: str) -> list[dict[str, Any]]:
    return [
        o
        for o in objects
        if o["kind"] == "Pod"
        and o["metadata"]["namespace"] == namespace
        and o["metadata"]["name"].startswith(prefix)
    ]


def _template(objects: Objects) -> dict[str, Any]:
    dep = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "user-service"
    )
    return dep["spec"]["template"]["spec"]


def _all_text(finding: model.Finding) -> str:
    return repr(finding.as_dict())


def test_healthy_cluster_with_a_resolved_probe_is_ruled_out_with_high_confidence() -> None:
    finding = dns.run(checkctx.context("healthy"))
    assert (finding.verdict, finding.confidence) == (model.Verdict.RULED_OUT, model.Confidence.HIGH)


def test_coredns_loop_crash_is_a_cause_whose_fix_changes_the_upstream_before_restarting() -> None:
    finding = dns.run(checkctx.context("coredns-down"))
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.details["problems"][0] == "coredns-loop"
    assert finding.priority == 10
    assert finding.fix is not None
    contents = [s.content for s in finding.fix.steps]
    assert "resolvConf: /run/systemd/resolve/resolv.conf" in contents[0]
    assert "rollout restart deployment/coredns" in contents[1]
    assert any("plugin/loop" in c.text for c in finding.evidence)
    assert "Restarting alone repeats the loop" in finding.why


def _crashloop_without_loop_logs() -> model.Context:
    base = demos.load("coredns-down")
    logs = {k: v for k, v in base.logs.items() if k[0] != "kube-system"}
    return checkctx.context("coredns-down", logs=logs)


def test_crashloop_without_a_known_reason_asks_for_the_previous_log_instead_of_a_restart() -> None:
    finding = dns.run(_crashloop_without_loop_logs())
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.details["problems"] == ["coredns-crashloop"]
    assert finding.fix is not None
    assert "--previous" in finding.fix.steps[0].content
    assert "rollout restart" not in _all_text(finding)


def test_coredns_running_but_unready_is_fixed_by_a_restart() -> None:
    def hang(objects: Objects) -> None:
        for pod in _pods(objects, "kube-system", "coredns-"):
            for cond in pod["status"]["conditions"]:
                if cond["type"] == "Ready":
                    cond["status"] = "False"

    finding = dns.run(checkctx.context("healthy", hang))
    assert finding.details["problems"] == ["coredns-not-ready"]
    assert finding.fix is not None
    assert finding.fix.steps[0].content.startswith(
        "kubectl -n kube-system rollout restart deployment/coredns"
    )


def test_short_db_host_in_the_wrong_namespace_gets_the_exact_set_env_fix() -> None:
    finding = dns.run(checkctx.context("wrong-db-host"))
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.details["problems"] == ["wrong-name"]
    assert finding.fix is not None
    assert finding.fix.steps[0].content == (
        "kubectl set env deployment/user-service -n app -c app "
        "DB_HOST=profile-db.data.svc.cluster.local"
    )
    assert "profile-db.app.svc.cluster.local" in finding.summary


DENY_EGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny-egress", "namespace": "app"},
    "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
}


def _coredns_on_1053(objs: list[dict[str, Any]]) -> None:
    """The healthy demo with CoreDNS listening on 1053 behind kube-dns:53 (targetPort by name),
    and all egress of namespace app denied."""
    for obj in objs:
        if obj["kind"] == "Service" and obj["metadata"]["name"] == "kube-dns":
            for port in obj["spec"]["ports"]:
                port["targetPort"] = port["name"]
        if obj["kind"] == "Pod" and obj["metadata"]["namespace"] == "kube-system":
            for container in obj["spec"]["containers"]:
                for port in container.get("ports", []):
                    if port["name"] in ("dns", "dns-tcp"):
                        port["containerPort"] = 1053
    objs.append(copy.deepcopy(DENY_EGRESS))


def test_egress_policy_blocking_dns_gets_the_patch_paths_policy_on_kube_dns_target_ports() -> None:
    """The fix is built by netpol's patch path: the Service's targetPort on the CoreDNS pods
    (1053 here, by name), the client's identifying labels, a computed blast radius."""
    ctx = checkctx.context("healthy", _coredns_on_1053)
    blocked = network_policy.run(ctx)
    assert blocked.details["dns_egress_blocked"] is True
    ctx = dataclasses.replace(ctx, earlier={"network-policy": blocked})
    finding = dns.run(ctx)
    assert finding.verdict is model.Verdict.CAUSE
    assert finding.details["problems"] == ["dns-egress-blocked"]
    assert finding.fix is not None
    policy = finding.fix.steps[0].action["object"]
    assert policy["metadata"] == {"name": "allow-user-service-dns", "namespace": "app"}
    assert policy["spec"]["podSelector"] == {"matchLabels": {"app": "user-service"}}
    rule = policy["spec"]["egress"][0]
    assert rule["ports"] == [
        {"protocol": "UDP", "port": "dns"},
        {"protocol": "TCP", "port": "dns-tcp"},
    ]
    assert rule["to"][0] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    radius = blocked.details["dns_patch"]["blast_radius"]
    assert {(f["to"], f["port"], f["protocol"]) for f in radius} == {
        (f"kube-system/{pod}", 1053, protocol)
        for pod in ("coredns-5d78c9869d-4tq8r", "coredns-5d78c9869d-p9z2m")
        for protocol in ("UDP", "TCP")
    }
    assert {f["from"] for f in radius} == {f"app/{objects.name(p)}" for p in ctx.scope.source_pods}
    assert blocked.details["dns_patch"]["opens_flow"] is True
    assert finding.fix.rollback == "kubectl -n app delete networkpolicy allow-user-service-dns"


@pytest.mark.parametrize(
    "earlier",
    [
        {},
        {
            "network-policy": model.Finding(
                check="network-policy", verdict=model.Verdict.RULED_OUT, summary="allowed"
            )
        },
    ],
)
def test_without_a_dns_verdict_from_network_policy_nothing_is_said_about_port_53(
    earlier: Any,
) -> None:
    finding = dns.run(checkctx.context("healthy", earlier=earlier))
    assert finding.verdict is model.Verdict.RULED_OUT
    assert "53" not in " ".join(c.text for c in finding.evidence)


@pytest.mark.parametrize(
    ("change", "wanted"),
    [
        ({"dnsPolicy": "Default"}, "ClusterFirst"),
        ({"hostNetwork": True}, "ClusterFirstWithHostNet"),
    ],
)
def test_pod_dns_policy_that_bypasses_cluster_dns_is_a_cause(
    change: dict[str, Any], wanted: str
) -> None:
    finding = dns.run(checkctx.context("healthy", lambda objs: _template(objs).update(change)))
    assert finding.details["problems"] == ["dns-policy"]
    assert finding.fix is not None and f'"dnsPolicy":"{wanted}"' in finding.fix.steps[0].content


def test_failed_dns_probe_alone_is_a_medium_confidence_cause() -> None:
    probe = probes_file.ProbeResult(
        kind="dns",
        target="profile-db.data.svc.cluster.local",
        outcome="servfail",
        elapsed_ms=4.0,
        data={"rcode": "SERVFAIL", "server": "10.96.0.10"},
    )
    finding = dns.run(checkctx.context("healthy", probes=(probe,)))
    assert (finding.verdict, finding.confidence) == (model.Verdict.CAUSE, model.Confidence.MEDIUM)
    assert finding.details["problems"] == ["probe-servfail"]


def test_resolution_errors_without_a_visible_mechanism_are_a_cause_with_lookup_commands() -> None:
    base = demos.load("healthy")
    logs = dict(base.logs)
    logs[("app", "user-service-7d9f8b6c5d-x2x9k", "app")] = (
        "2026-11-26T03:06:09Z ERROR dial tcp: lookup profile-db.data.svc.cluster.local on "
        "10.96.0.10:53: "
        "read udp 10.244.1.23:45233->10.96.0.10:53: i/o timeout",
    )
    finding = dns.run(checkctx.context("healthy", logs=logs, probes=()))
    assert finding.details["problems"] == ["client-resolution-errors"]
    assert "temporary failure" in finding.summary
    assert finding.fix is not None
    assert (
        "kubectl -n app exec deployment/user-service -- getent hosts"
        in finding.fix.steps[0].content
    )


def test_without_coredns_objects_or_probes_the_check_says_what_to_gather() -> None:
    def drop_dns(objects: Objects) -> None:
        objects[:] = [o for o in objects if o["metadata"].get("namespace") != "kube-system"]

    finding = dns.run(checkctx.context("healthy", drop_dns, probes=()))
    assert finding.verdict is model.Verdict.INCONCLUSIVE
    assert (
        "kubectl get pods,svc,endpointslices -n kube-system -l k8s-app=kube-dns" in finding.missing
    )


def test_a_missing_service_of_another_dependency_is_not_blamed_for_the_database() -> None:
    def redis(objects: Objects) -> None:
        _template(objects)["containers"][0]["env"].append(
            {"name": "REDIS_HOST", "value": "sessions-redis"}
        )

    assert dns.run(checkctx.context("healthy", redis)).verdict is model.Verdict.RULED_OUT


def test_database_url_with_a_short_host_is_found_and_its_password_never_shown() -> None:
    def url(objects: Objects) -> None:
        env = _template(objects)["containers"][0]["env"]
        env[:] = [e for e in env if e["name"] != "DB_HOST"]
        env.append(
            {
                "name": "DATABASE_URL",
                "value": "postgres://user_service:s3cr3t-pw@profile-db:5432/profiles",
            }
        )

    finding = dns.run(checkctx.context("healthy", url))
    assert finding.details["problems"] == ["wrong-name"]
    assert finding.fix is not None and finding.fix.steps[0].language == "text"
    assert "s3cr3t-pw" not in _all_text(finding)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("profile-db", ("profile-db", "app", True)),
        ("profile-db.data", ("profile-db", "data", True)),
        ("profile-db.data.svc", ("profile-db", "data", True)),
        ("profile-db.data.svc.cluster.local", ("profile-db", "data", False)),
        ("profile-db.data.svc.cluster.local.", ("profile-db", "data", False)),
        ("profile-db-0.profile-db.data.svc.cluster.local", ("profile-db", "data", False)),
        ("db.example.com", None),
        ("profile-db.unknownns", None),
        ("10.96.112.40", None),
    ],
)
def test_names_resolve_the_way_the_pod_search_path_does(host: str, expected: Any) -> None:
    found = dns_names.cluster_name(host, "app", {"app", "data", "kube-system"})
    assert (None if found is None else (found.service, found.namespace, found.searched)) == expected


@pytest.mark.parametrize(
    ("env", "hosts"),
    [
        ({"DB_HOST": "profile-db", "DB_PORT": "5432"}, [("DB_HOST", "profile-db")]),
        (
            {"DATABASE_URL": "postgresql://u:p@db.data:5432/x?sslmode=require"},
            [("DATABASE_URL", "db.data")],
        ),
        (
            {"SPRING_DATASOURCE_URL": "jdbc:postgresql://pg.data.svc:5432/x"},
            [("SPRING_DATASOURCE_URL", "pg.data.svc")],
        ),
        ({"JDBC_URL": "jdbc:postgresql://pg.data.svc:5432/x"}, [("JDBC_URL", "pg.data.svc")]),
        ({"PG_DSN": "host=pg.data port=5432 dbname=x"}, [("PG_DSN", "pg.data")]),
        ({"REDIS_HOST": "sessions-redis.cache"}, [("REDIS_HOST", "sessions-redis.cache")]),
    ],
)
def test_configured_hosts_are_read_from_host_variables_urls_and_dsns(
    env: dict[str, str], hosts: list[tuple[str, str]]
) -> None:
    assert [(h.variable, h.host) for h in dns_names.configured_hosts(env)] == hosts


def test_dns_policy_none_without_the_kube_dns_address_is_a_cause() -> None:
    def custom(objects: Objects) -> None:
        _template(objects).update(dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1"]})

    finding = dns.run(checkctx.context("healthy", custom))
    assert finding.details["problems"] == ["dns-policy"]
    assert "None, nameservers 1.1.1.1" in finding.evidence[0].text


def test_the_search_path_cost_of_a_name_below_ndots_is_noted() -> None:
    finding = dns.run(checkctx.context("healthy"))
    assert any(
        c.text.startswith("ndots 5: profile-db.data.svc.cluster.local has 4 dot(s)")
        for c in finding.evidence
    )


def test_upstream_servfail_for_an_outside_name_is_a_cause_for_an_outside_target() -> None:
    def external_name(objects: Objects) -> None:
        svc = next(
            o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "profile-db"
        )
        svc["spec"] = {
            "type": "ExternalName",
            "externalName": "profiles.db.example.com",
            "ports": [{"name": "postgres", "port": 5432}],
        }

    base = demos.load("healthy")
    logs = dict(base.logs)
    logs[("kube-system", "coredns-5d78c9869d-4tq8r", "coredns")] = (
        "[ERROR] plugin/errors: 2 profiles.db.example.com. A: read udp "
        "10.244.1.2:40211->10.0.0.2:53: "
        "i/o timeout",
    )
    finding = dns.run(checkctx.context("healthy", external_name, logs=logs, probes=()))
    assert finding.details["problems"] == ["upstream-failing"]
    assert finding.confidence is model.Confidence.MEDIUM
