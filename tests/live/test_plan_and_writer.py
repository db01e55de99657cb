"""The pure parts of live gathering: reading DST, selectors as query text, referenced Secrets,
log tails to fetch; and the bundle writer's round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paramedic import errors
from paramedic.evidence import bundle, demos, model, needs, writer
from paramedic.gather import plan, table


@pytest.mark.parametrize(
    ("text", "service", "port"),
    [
        ("profile-db", ("app", "profile-db"), None),
        ("profile-db:5432", ("app", "profile-db"), "5432"),
        ("data/profile-db", ("data", "profile-db"), None),
        ("profile-db.data", ("data", "profile-db"), None),
        ("profile-db.data.svc", ("data", "profile-db"), None),
        ("profile-db.data.svc.cluster.local:postgres", ("data", "profile-db"), "postgres"),
        ("Profile-DB.Data:5432", ("data", "profile-db"), "5432"),
        ("db.example.com:5432", None, "5432"),
        ("10.0.3.7:5432", None, "5432"),
        ("[2001:db8::7]:5432", None, "5432"),
    ],
)
def test_dst_names_a_service_or_an_outside_host(
    text: str, service: tuple[str, str] | None, port: str | None
) -> None:
    target = plan.target(text, "app")
    found = (target.service_namespace, target.service_name) if target.is_service else None
    assert (found, target.port) == (service, port)


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        ({"matchLabels": {"app": "db"}}, "app=db"),
        ({"matchLabels": {"app": "db", "tier": "x"}}, "app=db,tier=x"),
        (
            {"matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]},
            "env in (a,b)",
        ),
        (
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["a"]}]},
            "env notin (a)",
        ),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, "env"),
        ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, "!env"),
        ({}, ""),
        (None, None),
    ],
)
def test_a_label_selector_becomes_the_query_text_the_api_server_parses(
    selector: dict | None, text: str | None
) -> None:  # type: ignore[type-arg]
    assert plan.label_selector(selector) == text


def test_secrets_and_config_maps_referenced_by_env_envfrom_and_volumes_are_found() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {"namespace": "app", "name": "p"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "env": [
                        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "pw"}}},
                        {
                            "name": "X",
                            "valueFrom": {"configMapKeyRef": {"name": "cm1", "key": "x"}},
                        },
                    ],
                    "envFrom": [{"secretRef": {"name": "s2"}}, {"configMapRef": {"name": "cm2"}}],
                }
            ],
            "initContainers": [
                {"name": "i", "env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s3"}}}]}
            ],
            "volumes": [
                {"name": "v", "secret": {"secretName": "s4"}},
                {"name": "w", "configMap": {"name": "cm3"}},
                {
                    "name": "p",
                    "projected": {
                        "sources": [{"secret": {"name": "s5"}}, {"configMap": {"name": "cm4"}}]
                    },
                },
            ],
        },
    }
    secrets, config_maps = plan.referenced([pod])
    assert secrets == {("app", f"s{i}") for i in range(1, 6)}
    assert config_maps == {("app", f"cm{i}") for i in range(1, 5)}


def test_log_tails_cover_every_container_and_the_previous_one_after_a_restart() -> None:
    pods = [
        {
            "metadata": {"namespace": "data", "name": f"db-{i}"},
            "spec": {"containers": [{"name": "postgres"}, {"name": "exporter"}]},
            "status": {"containerStatuses": [{"name": "postgres", "restartCount": 2}]},
        }
        for i in range(5)
    ]
    targets = plan.log_targets(pods)
    assert len({pod for _, pod, _, _ in targets}) == plan.MAX_LOG_PODS
    assert ("data", "db-0", "postgres", True) in targets
    assert ("data", "db-0", "exporter", True) not in targets


@pytest.mark.parametrize("name", ["bundle", "bundle.tar.gz", "bundle.tgz"])
def test_a_written_bundle_loads_back_to_the_same_evidence(tmp_path: Path, name: str) -> None:
    seed = demos.load(demos.DEFAULT)
    written = writer.write(seed, tmp_path / name)
    again = bundle.load(written)
    assert again.objects == seed.objects
    assert dict(again.logs) == dict(seed.logs)
    assert again.metrics == seed.metrics
    assert again.incident == seed.incident


def test_previous_logs_probes_and_gaps_survive_the_round_trip(tmp_path: Path) -> None:
    from paramedic.evidence import probes_file

    probe = probes_file.ProbeResult(
        kind="tcp",
        target="10.0.0.1:5432",
        outcome="timeout",
        elapsed_ms=3000.0,
        data={"host": "10.0.0.1", "port": 5432},
        source="pod app/p",
    )
    evidence = model.Evidence.of(
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}],
        logs={("app", "p", "c (previous)"): ("boom",), ("app", "p", "c"): ("ok",)},
        probes=[probe],
        gaps=["cannot list events in app: forbidden"],
        incident=model.Incident(source="p", target="db.example.com", port=5432, namespace="app"),
        provenance="live cluster test",
    )
    out = writer.write(evidence, tmp_path / "b")
    assert (out / "logs/app/p/c.previous.log").read_text() == "boom\n"
    assert (out / "gaps.txt").read_text() == "cannot list events in app: forbidden\n"
    again = bundle.load(out)
    assert dict(again.logs) == dict(evidence.logs)
    assert again.probes == evidence.probes
    assert again.incident == evidence.incident
    assert json.loads((out / "probes.json").read_text())["schema"] == probes_file.SCHEMA


def test_the_writer_digests_secret_values_even_if_evidence_held_them(tmp_path: Path) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "app"},
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"token": "plain-token"},
    }
    out = writer.write(model.Evidence.of([secret]), tmp_path / "b")
    text = (out / "objects.yaml").read_text()
    assert "aHVudGVyMg==" not in text and "hunter2" not in text and "plain-token" not in text
    assert "len=7" in text


def test_an_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "taken.tar.gz").write_text("precious")
    with pytest.raises(errors.InputError, match="already exists"):
        writer.write(demos.load(demos.DEFAULT), tmp_path / "taken.tar.gz")
    assert (tmp_path / "taken.tar.gz").read_text() == "precious"


def test_structured_gaps_survive_the_round_trip_as_readable_lines(tmp_path: Path) -> None:
    gaps = (
        model.Gap("NetworkPolicy", "data", "cannot list networkpolicies in data: forbidden"),
        model.Gap("Node", "", "cannot list nodes: forbidden"),
        model.Gap("", "", "database probe not run: no password"),
    )
    evidence = model.Evidence.of(demos.load("seed").objects, gaps=gaps)
    out = tmp_path / "b"
    writer.write(evidence, out)
    assert (out / "gaps.txt").read_text().splitlines() == [
        "[NetworkPolicy data] cannot list networkpolicies in data: forbidden",
        "[Node] cannot list nodes: forbidden",
        "database probe not run: no password",
    ]
    assert bundle.load(out).gaps == gaps


def test_needs_become_list_requests_only_beyond_what_resolution_fetches() -> None:
    wanted = [
        needs.Need("Pod"),  # resolution fetches the incident's pods by name or selector
        needs.Need("Secret", needs.Scope.REFERENCED),  # ... and the Secrets they reference
        needs.Need("NetworkPolicy", needs.Scope.NAMESPACES),
        needs.Need("Node", needs.Scope.CLUSTER),
        needs.Need("Namespace", needs.Scope.NAMESPACES),  # cluster-scoped: listed once
        needs.Need("Pod", needs.Scope.TARGET),
        needs.Need("ConfigMap", needs.Scope.DNS),  # coredns by name is not all of them: listed
        needs.Need("Lease", needs.Scope.DNS, api="coordination.k8s.io/v1"),
        needs.Need.logs(needs.Scope.SOURCE),
    ]
    assert plan.listings(wanted, "app", "data") == [
        ("ConfigMap", "kube-system"),
        ("Lease.coordination.k8s.io", "kube-system"),
        ("Namespace", None),
        ("NetworkPolicy", "app"),
        ("NetworkPolicy", "data"),
        ("Node", None),
        ("Pod", "data"),
    ]
    assert table.resources(wanted)["Lease.coordination.k8s.io"] == (
        "/apis/coordination.k8s.io/v1",
        "leases",
    )
    assert table.unknown([needs.Need("Widget")]) == [needs.Need("Widget")]
