"""--probe-pod: the pod paramedic creates, what it runs, how its log becomes probe results."""

from __future__ import annotations

from pathlib import Path

import pytest

from paramedic import timeouts
from paramedic.gather import plan, probe_pod, probe_pod_log

from . import fakeapi
from .livekit import gather

BUSYBOX_RESOLVED = """\
Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

Name:\tprofile-db.data.svc.cluster.local
Address: 10.96.112.40

*** Can't find profile-db.data.svc.cluster.local: No answer
"""

SERVER = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"

PROBE_LOG = f"""\
@@paramedic dns profile-db.data.svc.cluster.local rc=0 ms=20
{BUSYBOX_RESOLVED}@@end
@@paramedic tcp 10.96.112.40:5432 rc=1 ms=3010
nc: timed out
@@end
@@paramedic tcp 10.244.2.31:5432 rc=1 ms=3004
@@end
"""


def test_probe_pod_wears_the_source_labels_runs_the_checks_and_is_deleted(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    server.probe_log = PROBE_LOG
    evidence = gather(kubeconfig, probe_pod=True)

    assert len(server.created) == 3  # the labelled pod, its node, the database's node
    pod = server.created[0]
    name = pod["metadata"]["name"]
    assert pod["metadata"]["namespace"] == "app"
    assert pod["metadata"]["labels"] == {"app": "user-service", "tier": "backend"}
    assert server.deleted == [f"app/{p['metadata']['name']}" for p in server.created]
    container = pod["spec"]["containers"][0]
    assert container["image"] == probe_pod.DEFAULT_IMAGE
    assert container["readinessProbe"]["exec"]["command"] == ["false"]  # never a Service endpoint
    assert pod["spec"]["automountServiceAccountToken"] is False
    script = container["command"][2]
    assert "nslookup profile-db.data.svc.cluster.local" in script
    assert "nc $Z -w 3 10.96.112.40 5432 $E" in script and "10.244.2.31 5432" in script

    by_target = {(p.kind, p.target): p for p in evidence.probes if p.source == f"pod app/{name}"}
    dns = by_target[("dns", "profile-db.data.svc.cluster.local")]
    assert dns.outcome == "resolved" and dns.data["addresses"] == ["10.96.112.40"]
    assert dns.data["server"] == "10.96.0.10:53" or dns.data["server"] == "10.96.0.10"
    assert by_target[("tcp", "10.96.112.40:5432")].outcome == "timeout"
    assert by_target[("tcp", "10.244.2.31:5432")].source == f"pod app/{name}"


def test_probe_pod_is_deleted_even_when_it_never_finishes(
    server: fakeapi.FakeApiServer, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = server._create_pod

    def pending(ns: str, pod: dict) -> tuple[int, object]:  # type: ignore[type-arg]
        code, body = original(ns, pod)
        server.created[-1]["status"] = {"phase": "Pending"}
        return code, body

    monkeypatch.setattr(server, "_create_pod", pending)
    evidence = gather(kubeconfig, probe_pod=True, total=5)
    assert len(server.deleted) == len(server.created) == 3
    assert any("did not finish within --timeout" in g for g in map(str, evidence.gaps))
    assert evidence.probes == ()


def test_a_forbidden_pod_create_is_a_gap_not_a_crash(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    server.forbidden.add(("create", "pods", "app"))
    evidence = gather(kubeconfig, probe_pod=True)
    assert any(
        g.startswith("probe pod not created in app on node ")
        and g.endswith(": forbidden (for user tester)")
        for g in map(str, evidence.gaps)
    )
    assert server.deleted == []


@pytest.mark.parametrize(
    ("output", "rc", "outcome", "rcode"),
    [
        (BUSYBOX_RESOLVED, 0, "resolved", "NOERROR"),
        (
            f"{SERVER}** server can't find x.data: NXDOMAIN\n",
            1,
            "nxdomain",
            "NXDOMAIN",
        ),
        (
            f"{SERVER}** server can't find x.data: SERVFAIL\n",
            1,
            "servfail",
            "SERVFAIL",
        ),
        ("** server can't find x.data: REFUSED\n", 1, "refused", "REFUSED"),
        (";; connection timed out; no servers could be reached\n", 1, "timeout", None),
        ("", 143, "timeout", None),
    ],
)
def test_busybox_nslookup_output_becomes_a_dns_probe_result(
    output: str, rc: int, outcome: str, rcode: str | None
) -> None:
    log = f"@@paramedic dns x.data rc={rc} ms=12\n{output}@@end\n"
    (result,) = probe_pod_log.parse(log, source="pod app/p", at="2026-11-26T04:00:00Z")
    assert (result.kind, result.outcome, result.data["rcode"]) == ("dns", outcome, rcode)
    assert set(result.data) == {"name", "server", "addresses", "ttl", "rcode"}


@pytest.mark.parametrize(
    ("output", "rc", "outcome", "errno"),
    [
        ("", 0, "open", None),
        (
            "nc: can't connect to remote host (10.96.112.40): Connection refused",
            1,
            "refused",
            "ECONNREFUSED",
        ),
        (
            "nc: can't connect to remote host (10.96.112.40): No route to host",
            1,
            "unreachable",
            "EHOSTUNREACH",
        ),
        ("nc: timed out", 1, "timeout", "ETIMEDOUT"),
        ("nc: bad address 'nope.example'", 1, "dns-error", None),
        ("", 143, "timeout", "ETIMEDOUT"),
    ],
)
def test_busybox_nc_output_becomes_a_tcp_probe_result(
    output: str, rc: int, outcome: str, errno: str | None
) -> None:
    log = f"@@paramedic tcp 10.96.112.40:5432 rc={rc} ms=7\n{output}\n@@end\n"
    (result,) = probe_pod_log.parse(log, source="pod app/p", at="")
    assert (result.outcome, result.data["errno"]) == (outcome, errno)
    assert result.data["host"] == "10.96.112.40" and result.data["port"] == 5432
    assert result.data["address"] == "10.96.112.40"


def test_controller_hash_labels_are_left_off_so_no_controller_adopts_the_probe_pod() -> None:
    labels = {
        "app": "db",
        "pod-template-hash": "abc",
        "controller-revision-hash": "x",
        "statefulset.kubernetes.io/pod-name": "db-0",
    }
    pod = probe_pod.manifest(
        name="p",
        namespace="ns",
        labels=labels,
        image="busybox:1.36",
        checks=[],
        limits=timeouts.DEFAULT,
    )
    assert pod["metadata"]["labels"] == {"app": "db"}


def test_names_that_are_not_hostnames_never_reach_the_shell() -> None:
    checks = [
        probe_pod.Check(kind="dns", host="x; rm -rf /"),
        probe_pod.Check(kind="tcp", host="$(id)", port=1),
    ]
    assert "rm" not in probe_pod.script(checks, timeouts.DEFAULT)
    assert "$(id)" not in probe_pod.script(checks, timeouts.DEFAULT)


def test_an_outside_host_gets_a_dns_and_a_tcp_check() -> None:
    target = plan.target("db.example.com:5432", "app")
    checks = probe_pod.checks_for(target, None, [], None)
    assert [(c.kind, c.target) for c in checks] == [
        ("dns", "db.example.com"),
        ("tcp", "db.example.com:5432"),
    ]


def test_the_probe_script_runs_under_a_real_busybox_and_its_log_parses(tmp_path: Path) -> None:
    """The script as the probe pod runs it: busybox sh and applets only (PATH = applet links)."""
    import shutil
    import socket
    import subprocess

    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (apt-get install busybox)")
    applets = tmp_path / "bin"
    applets.mkdir()
    for name in ("sh", "nc", "nslookup", "timeout", "grep", "true"):
        (applets / name).symlink_to(busybox)
    with (
        socket.create_server(("127.0.0.1", 0)) as listening,
        socket.create_server(("127.0.0.1", 0)) as closed,
    ):
        open_port, closed_port = listening.getsockname()[1], closed.getsockname()[1]
        closed.close()
        checks = [
            probe_pod.Check(kind="tcp", host="127.0.0.1", port=open_port),
            probe_pod.Check(kind="tcp", host="127.0.0.1", port=closed_port),
            probe_pod.Check(kind="tcp", host="nothing.invalid", port=5432),
        ]
        run = subprocess.run(
            [str(applets / "sh"), "-c", probe_pod.script(checks, timeouts.DEFAULT)],
            capture_output=True,
            text=True,
            env={"PATH": str(applets)},
            timeout=30,
            check=False,
        )
    results = probe_pod_log.parse(run.stdout, source="pod app/p", at="")
    assert [(r.target, r.outcome) for r in results] == [
        (f"127.0.0.1:{open_port}", "open"),
        (f"127.0.0.1:{closed_port}", "refused"),
        ("nothing.invalid:5432", "dns-error"),
    ], run.stdout + run.stderr
    assert all(r.elapsed_ms >= 0 for r in results)


def test_an_image_that_cannot_be_pulled_is_a_gap_naming_probe_image(
    server: fakeapi.FakeApiServer, kubeconfig: Path
) -> None:
    server.probe_status = {
        "phase": "Pending",
        "containerStatuses": [
            {"name": "probe", "state": {"waiting": {"reason": "ImagePullBackOff"}}}
        ],
    }
    evidence = gather(kubeconfig, probe_pod=True)
    assert any("ImagePullBackOff" in g and "--probe-image" in g for g in map(str, evidence.gaps))
    assert len(server.deleted) == len(server.created) == 3
