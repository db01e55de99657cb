"""The live path end to end: the real `kubernetes` client against a local fake API server."""

from __future__ import annotations

import base64
import json
import tarfile
import time
from pathlib import Path

import pytest

from paramedic.evidence import bundle, demos, redact

from . import fakeapi
from .livekit import RAW_SECRETS, Gathered, gather, run, seed_server

INCIDENT = ("--from", "user-service", "--to", "profile-db.data", "--port", "5432")


def _diagnosis(text: str) -> dict[str, object]:
    doc = json.loads(text)
    return {key: doc[key] for key in ("schema", "incident", "findings", "next", "errors")}


@pytest.mark.parametrize("out_name", ["bundle", "bundle.tar.gz"])
def test_live_diagnosis_equals_diagnosis_of_the_captured_bundle(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, tmp_path: Path, out_name: str
) -> None:
    code_live, live_json, _ = run(
        capsys, "diagnose", *INCIDENT, "--kubeconfig", str(kubeconfig), "-o", "json"
    )
    out = tmp_path / out_name
    code_cap, captured, _ = run(
        capsys, "capture", *INCIDENT, "--kubeconfig", str(kubeconfig), str(out)
    )
    code_off, offline_json, _ = run(capsys, "diagnose", str(out), "-o", "json")

    assert code_cap == 0 and captured.startswith(f"wrote {out}")
    assert _diagnosis(live_json) == _diagnosis(offline_json)
    assert code_live == code_off


def test_diagnose_capture_writes_what_capture_writes_and_prints_the_same_report(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, tmp_path: Path
) -> None:
    code, report, err = run(
        capsys, "diagnose", *INCIDENT, "--kubeconfig", str(kubeconfig), "-o", "json",
        "--capture", str(tmp_path / "both"),
    )  # fmt: skip
    code_live, live_json, _ = run(
        capsys, "diagnose", *INCIDENT, "--kubeconfig", str(kubeconfig), "-o", "json"
    )
    _, wrote, _ = run(
        capsys, "capture", *INCIDENT, "--kubeconfig", str(kubeconfig), str(tmp_path / "apart")
    )
    assert code == code_live == 1 and _diagnosis(report) == _diagnosis(live_json)
    assert err == "paramedic: " + wrote.replace("apart", "both")  # a line on stderr, not stdout
    both = sorted(p.relative_to(tmp_path / "both") for p in (tmp_path / "both").rglob("*"))
    apart = sorted(p.relative_to(tmp_path / "apart") for p in (tmp_path / "apart").rglob("*"))
    assert both == apart
    for name in both:
        if (tmp_path / "both" / name).is_file():
            assert (tmp_path / "both" / name).read_bytes() == (
                tmp_path / "apart" / name
            ).read_bytes(), name


def test_live_evidence_holds_the_same_objects_logs_and_metrics_as_the_demo(
    gathered: Gathered, seed: object
) -> None:
    evidence = gathered.evidence

    def keys(objects: object) -> set[tuple[str, str, str]]:
        return {
            (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects
        }  # type: ignore[attr-defined]

    assert keys(evidence.objects) == keys(seed.objects)  # type: ignore[attr-defined]
    assert set(seed.logs) <= set(evidence.logs)  # type: ignore[attr-defined]
    assert len(evidence.metrics) == len(seed.metrics)  # type: ignore[attr-defined]
    assert evidence.gaps == ()
    assert evidence.provenance == "live cluster fake"
    assert evidence.incident is not None and evidence.incident.namespace == "app"


@pytest.mark.parametrize(
    "source",
    [
        "user-service",
        "user-service-7d9f8b6c5d-k8mzp",
        "app=user-service",
        "app in (user-service),tier=backend",
    ],
)
def test_every_source_form_finds_the_workload_its_pods_and_their_secret(
    kubeconfig: Path, source: str
) -> None:
    evidence = gather(kubeconfig, source=source)
    assert evidence.get("Deployment", "app", "user-service") is not None
    assert evidence.get("Pod", "app", "user-service-7d9f8b6c5d-k8mzp") is not None
    assert evidence.get("Secret", "app", "profile-db-credentials") is not None


@pytest.mark.parametrize(
    "target", ["profile-db.data", "data/profile-db", "profile-db.data.svc.cluster.local:5432"]
)
def test_every_target_form_finds_the_service_its_pods_and_endpoints(
    kubeconfig: Path, target: str
) -> None:
    evidence = gather(kubeconfig, target=target, port=None)
    assert evidence.get("Service", "data", "profile-db") is not None
    assert evidence.get("Pod", "data", "profile-db-0") is not None
    assert evidence.get("StatefulSet", "data", "profile-db") is not None
    assert evidence.kind("EndpointSlice", "data")
    assert evidence.kind("NetworkPolicy", "data") and evidence.kind("NetworkPolicy", "app")


def test_capture_writes_no_secret_value_anywhere(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, tmp_path: Path
) -> None:
    directory, archive = tmp_path / "dir-bundle", tmp_path / "bundle.tgz"
    for out in (directory, archive):
        code, _, _ = run(capsys, "capture", *INCIDENT, "--kubeconfig", str(kubeconfig), str(out))
        assert code == 0
    blobs = [f.read_bytes() for f in directory.rglob("*") if f.is_file()]
    with tarfile.open(archive) as tar:
        blobs += [tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()]  # type: ignore[union-attr]
    values = [v for raw in RAW_SECRETS.values() for v in raw.values()]
    forbidden = [v.encode() for v in values] + [base64.b64encode(v.encode()) for v in values]
    for blob in blobs:
        for value in forbidden:
            assert value not in blob
    secrets = bundle.load(directory).kind("Secret")
    assert {s["metadata"]["name"] for s in secrets} == {
        "profile-db-credentials",
        "profile-db-superuser",
    }
    for secret in secrets:
        assert all(redact.is_digest(v) for v in secret["data"].values())
        assert "kubectl.kubernetes.io/last-applied-configuration" not in (
            secret["metadata"].get("annotations") or {}
        )
    creds = next(s for s in secrets if s["metadata"]["name"] == "profile-db-credentials")
    assert creds["data"]["password"].endswith(
        f"len={len(RAW_SECRETS[('app', 'profile-db-credentials')]['password'])}"
    )
    assert creds["metadata"]["managedFields"][0]["time"] == "2026-10-30T02:00:04Z"


def test_no_secret_value_enters_evidence(gathered: Gathered) -> None:
    text = json.dumps(gathered.evidence.objects)
    for raw in RAW_SECRETS.values():
        for value in raw.values():
            assert value not in text and base64.b64encode(value.encode()).decode() not in text


@pytest.mark.parametrize(
    ("rule", "gap"),
    [
        (("list", "networkpolicies", "data"), "cannot list networkpolicies in data: forbidden"),
        (("list", "events", "app"), "cannot list events in app: forbidden"),
        (("list", "namespaces", None), "cannot list namespaces: forbidden"),
        (("get", "secrets", None), "cannot get secrets app/profile-db-credentials: forbidden"),
    ],
)
def test_a_forbidden_request_becomes_a_gap_and_the_rest_is_gathered(
    server: fakeapi.FakeApiServer, kubeconfig: Path, rule: tuple[str, str, str | None], gap: str
) -> None:
    server.forbidden.add(rule)
    evidence = gather(kubeconfig)
    assert any(g.startswith(gap) for g in map(str, evidence.gaps)), evidence.gaps
    assert "user tester" in next(g for g in map(str, evidence.gaps) if g.startswith(gap))
    assert evidence.get("Deployment", "app", "user-service") is not None
    assert evidence.get("Service", "data", "profile-db") is not None


def test_a_forbidden_list_shows_in_the_diagnosis_and_the_capture(
    capsys: pytest.CaptureFixture[str],
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    tmp_path: Path,
) -> None:
    server.forbidden.add(("list", "networkpolicies", "data"))
    code, _, err = run(
        capsys, "capture", *INCIDENT, "--kubeconfig", str(kubeconfig), str(tmp_path / "b")
    )
    assert code == 0
    assert "paramedic: gap: cannot list networkpolicies in data: forbidden" in err
    assert "cannot list networkpolicies in data" in (tmp_path / "b" / "gaps.txt").read_text()


def test_a_missing_metrics_api_becomes_a_gap(tmp_path: Path) -> None:
    with seed_server(metrics=False) as srv:
        evidence = gather(srv.kubeconfig(tmp_path / "k", namespace="app"))
    assert evidence.metrics == ()
    assert any("metrics.k8s.io" in g for g in map(str, evidence.gaps))


def test_a_slow_api_server_cannot_make_gathering_outlast_the_timeout(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    server.slow["/apis/networking.k8s.io"] = 60.0
    started = time.monotonic()
    evidence = gather(kubeconfig, total=1.5)
    elapsed = time.monotonic() - started
    assert elapsed < 15  # the slow endpoint would hold a request for 60 s
    assert any(
        "networkpolicies" in g and ("timed out" in g or "--timeout" in g)
        for g in map(str, evidence.gaps)
    )
    assert evidence.get("Deployment", "app", "user-service") is not None


def test_without_probe_flags_nothing_is_created_and_secrets_are_only_read_by_name(
    gathered: Gathered,
) -> None:
    server = gathered.server
    assert server.writes() == []
    secret_reads = [p for m, p in server.requests if "/secrets" in p]
    assert secret_reads and all(p.rsplit("/secrets", 1)[1].startswith("/") for p in secret_reads)


def test_logs_are_read_by_the_apis_own_bounds_a_time_window_and_a_byte_cap(
    gathered: Gathered,
) -> None:
    logs = [p for _, p in gathered.server.requests if p.split("?")[0].endswith("/log")]
    assert logs
    for path in logs:
        assert "sinceSeconds=3600" in path and f"limitBytes={2 * 1024 * 1024}" in path
        assert "container=" in path and "tailLines" not in path


def test_an_unreachable_api_server_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with fakeapi.FakeApiServer([]) as srv:
        config = srv.kubeconfig(tmp_path / "k")
    code, out, err = run(
        capsys, "diagnose", *INCIDENT, "--kubeconfig", str(config), "--timeout", "3"
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot reach the API server" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--context", "nope"), "context 'nope' not found"),
        (
            ("--kubeconfig", "/nonexistent/kubeconfig"),
            "--kubeconfig /nonexistent/kubeconfig: no such file",
        ),
        (("--probe-image", "busybox:1.36"), "--probe-image needs --probe-pod"),
    ],
)
def test_cli_errors_of_live_commands_are_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, argv: tuple[str, ...], message: str
) -> None:
    extra = argv if "--kubeconfig" in argv else ("--kubeconfig", str(kubeconfig), *argv)
    for command in (("diagnose",), ("capture", "/tmp/paramedic-never-written")):
        code, out, err = run(capsys, *command, *INCIDENT, *extra)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and message in err, err
    assert not Path("/tmp/paramedic-never-written").exists()


def test_without_any_kubeconfig_the_error_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, out, err = run(capsys, "diagnose", *INCIDENT)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no kubeconfig" in err and "--kubeconfig" in err


def test_live_only_flags_are_refused_with_a_bundle(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "diagnose", "src/paramedic/demos/seed", "--probe-pod")
    assert code == 2 and "--probe-pod works only live" in err


@pytest.mark.parametrize(
    "command", [["capture"], ["diagnose", "--capture"]], ids=["capture", "diagnose-capture"]
)
def test_capture_never_overwrites_an_existing_output_and_says_so_before_gathering(
    capsys: pytest.CaptureFixture[str],
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    tmp_path: Path,
    command: list[str],
) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    argv = [*command[:1], *INCIDENT, "--kubeconfig", str(kubeconfig), *command[1:], str(out)]
    code, stdout, err = run(capsys, *argv)
    assert code == 2 and "already exists" in err and stdout == ""
    assert (out / "keep.txt").read_text() == "mine"
    assert server.requests == []  # refused before the cluster was read


def test_live_gather_sends_db_probe_callers_to_the_gather_layer_before_any_request(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    from paramedic import errors

    with pytest.raises(errors.InputError, match=r"paramedic\.gather\.db_probe"):
        gather(kubeconfig, port=None, db_probe=True)
    assert server.requests == []


def test_live_diagnosis_of_the_served_demo_finds_the_demos_expected_causes(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path
) -> None:
    expected = json.loads(Path("src/paramedic/demos/seed/expected.json").read_text())
    code, out, _ = run(capsys, "diagnose", *INCIDENT, "--kubeconfig", str(kubeconfig), "-o", "json")
    doc = json.loads(out)
    causes = {f["check"] for f in doc["findings"] if f["verdict"] == "cause"}
    assert causes == set(expected["causes"])
    assert code == expected["exit"]


def test_an_exec_credential_plugin_supplies_the_token_as_it_does_for_kubectl(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    import sys

    import yaml

    config = yaml.safe_load(kubeconfig.read_text())
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": "token-from-exec-plugin"},
    }
    config["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": ["-c", f"print({json.dumps(json.dumps(credential))})"],
            "interactiveMode": "Never",
        }
    }
    kubeconfig.write_text(yaml.safe_dump(config))
    evidence = gather(kubeconfig)
    assert server.tokens == {"Bearer token-from-exec-plugin"}
    assert evidence.get("Deployment", "app", "user-service") is not None


def test_an_expiring_exec_token_is_renewed_but_not_once_per_request(
    server: fakeapi.FakeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    """The client renews an exec token that expires within 5 minutes before a request; it is
    renewed, and the plugin is not run again for each of the parallel requests."""
    import yaml

    runs = tmp_path / "runs"
    script = (
        f"echo run >> {runs}; n=$(wc -l < {runs}); "
        'printf \'{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",'
        ' "status": {"token": "exec-token-%s", "expirationTimestamp": "2020-01-01T00:00:00Z"}}\''
        ' "$n"'
    )
    config = yaml.safe_load(kubeconfig.read_text())
    config["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "sh",
            "args": ["-c", script],
            "interactiveMode": "Never",
        }
    }
    kubeconfig.write_text(yaml.safe_dump(config))
    evidence = gather(kubeconfig)
    assert evidence.get("Deployment", "app", "user-service") is not None
    plugin_runs = len(runs.read_text().splitlines())
    assert 2 <= plugin_runs < len(server.requests) / 4  # loaded, then renewed before requests
    assert "Bearer exec-token-1" not in server.tokens  # the expired first token was never sent
    assert f"Bearer exec-token-{plugin_runs}" in server.tokens


def test_the_context_namespace_is_the_default_and_another_context_can_be_chosen(
    server: fakeapi.FakeApiServer, tmp_path: Path
) -> None:
    import yaml

    path = server.kubeconfig(tmp_path / "k", namespace="data", context="first")
    config = yaml.safe_load(path.read_text())
    config["contexts"].append(
        {"name": "second", "context": {"cluster": "fake", "user": "tester", "namespace": "app"}}
    )
    path.write_text(yaml.safe_dump(config))
    evidence = gather(path, context="second", progress=True)
    assert evidence.incident is not None and evidence.incident.namespace == "app"
    assert evidence.provenance == "live cluster second"
    assert evidence.get("Deployment", "app", "user-service") is not None


def test_when_namespaces_cannot_be_listed_the_involved_ones_are_read_by_name(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    server.forbidden.add(("list", "namespaces", None))
    evidence = gather(kubeconfig)
    assert {n["metadata"]["name"] for n in evidence.kind("Namespace")} == {
        "app",
        "data",
        "kube-system",
    }
    assert any(g.startswith("cannot list namespaces: forbidden") for g in map(str, evidence.gaps))


def test_a_failing_api_server_answer_becomes_a_gap(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    server.broken.add("/api/v1/namespaces/app/events")
    evidence = gather(kubeconfig)
    assert "cannot list events in app: HTTP 500" in map(str, evidence.gaps)
    assert evidence.get("Deployment", "app", "user-service") is not None


def test_a_capture_with_gaps_is_diagnosed_offline_as_it_was_live(
    capsys: pytest.CaptureFixture[str],
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    tmp_path: Path,
) -> None:
    server.forbidden.add(("list", "networkpolicies", "data"))
    _, live_json, _ = run(
        capsys, "diagnose", *INCIDENT, "--kubeconfig", str(kubeconfig), "-o", "json"
    )
    run(capsys, "capture", *INCIDENT, "--kubeconfig", str(kubeconfig), str(tmp_path / "b"))
    _, offline_json, _ = run(capsys, "diagnose", str(tmp_path / "b"), "-o", "json")
    assert json.loads(offline_json)["gaps"] == json.loads(live_json)["gaps"]
    assert _diagnosis(live_json) == _diagnosis(offline_json)


def test_configmaps_are_gathered_with_their_data_and_only_secret_values_are_digested(
    tmp_path: Path,
) -> None:
    demo = demos.load("coredns-down")
    assert demo.incident is not None
    incident = demo.incident
    with fakeapi.FakeApiServer(demo.objects, logs=dict(demo.logs)) as srv:
        evidence = gather(
            srv.kubeconfig(tmp_path / "k", namespace=str(incident.namespace)),
            source=incident.source,
            target=incident.target,
            port=incident.port,
            namespace=incident.namespace,
        )
    corefile = evidence.get("ConfigMap", "kube-system", "coredns")
    assert corefile is not None
    assert corefile["data"] == demo.get("ConfigMap", "kube-system", "coredns")["data"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (("--from", "user-servce", "--to", "profile-db.data"), "; did you mean 'user-service'?"),
        (("--from", "user-service", "--to", "profle-db.data"), "; did you mean 'profile-db'?"),
        (
            ("--from", "user-service", "-n", "data", "--to", "profile-db.data"),
            "; Deployment app/user-service exists (pass -n app)",
        ),
    ],
)
def test_a_mistyped_name_gets_a_hint_from_what_live_gathering_read(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, argv: tuple[str, ...], hint: str
) -> None:
    code, out, err = run(
        capsys, "diagnose", "--kubeconfig", str(kubeconfig), *argv, "--port", "5432"
    )
    assert (code, out) == (2, "")
    assert err.rstrip().endswith(hint), err
