"""Hostile or unlucky input to the CLI: one line naming the file/object/field, exit 2, bounded
time and memory, and no third-party line on stderr (issue 15, items 8, 9, 11, 12).

Cases that hand the CLI a file it might read without bound, or that watch what libraries write to
stderr, run the real CLI in a child process; those with a file run under a 2 GiB address-space
limit, so a read that is not capped fails the test instead of the machine. (A complete live run
is not limited that way: the client's thread pools reserve address space, glibc arenas and
stacks, far beyond what they use.) Small files of ours and names on the command line run
in-process through the same `main` (`_in_process`)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import clirun
from paramedic import timeouts
from paramedic.evidence import model

from . import fakeapi, livekit

MEMORY = 2 * 1024**3
HUGE = "9" * 5000


def _cli(
    *argv: str, timeout: float = 60, limited: bool = True, fresh: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {"KUBECONFIG": "", "HOME": "/nonexistent"}
    memory = MEMORY if limited else None
    return clirun.subprocess(*argv, timeout=timeout, memory=memory, env=env, fresh=fresh)


def _in_process(capsys: pytest.CaptureFixture[str], *argv: str) -> subprocess.CompletedProcess[str]:
    code, out, err = clirun.run(capsys, *argv)
    return subprocess.CompletedProcess(list(argv), code, out, err)


def _one_line_error(done: subprocess.CompletedProcess[str], *names: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("paramedic: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    for name in names:
        assert name in done.stderr, done.stderr


def _objects(value: str) -> str:
    return (
        '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap",'
        f' "metadata": {{"name": "a", "namespace": "b"}}, "data": {{"x": {value}}}}}]}}'
    )


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_a_5000_digit_number_in_an_objects_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    path = tmp_path / f"objects.{suffix}"
    path.write_text(_objects(HUGE))
    done = _in_process(capsys, "diagnose", str(path), "--from", "a", "--to", "b")
    _one_line_error(done, str(path), "4300")


def test_json_refuses_a_duplicate_key_as_yaml_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "objects.json"
    path.write_text(_objects('{"k": 1, "k": 2}'))
    done = _in_process(capsys, "diagnose", str(path), "--from", "a", "--to", "b")
    _one_line_error(done, str(path), "'k'")
    as_yaml = tmp_path / "objects.yaml"
    as_yaml.write_text(_objects('{"k": 1, "k": 2}'))
    done = _in_process(capsys, "diagnose", str(as_yaml), "--from", "a", "--to", "b")
    _one_line_error(done, "'k'")


@pytest.mark.parametrize(
    "name", ["a" * 64 + ".example", "a\u200db.example", "xn--ab\u00fc.example", "a..b", "a" * 300]
)
def test_probe_dns_refuses_names_no_query_can_carry(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    done = _in_process(capsys, "probe", "dns", name, "--server", "127.0.0.1", "--timeout", "1")
    _one_line_error(done, "not a valid DNS name")


def _kubeconfig(path: Path, user: dict[str, Any], cluster: dict[str, Any] | None = None) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [{"name": "k", "cluster": cluster or {"server": "http://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def _diagnose_live(
    kubeconfig: Path, *extra: str, limited: bool = True, fresh: bool = False
) -> subprocess.CompletedProcess[str]:
    return _cli(
        "diagnose", "--kubeconfig", str(kubeconfig), "--from", "user-service", "-n", "app",
        "--to", "profile-db.data:5432", "--timeout", "10", *extra, limited=limited, fresh=fresh,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("user", "cluster", "names"),
    [
        ({"tokenFile": "/dev/zero"}, None, ("tokenFile", "/dev/zero")),
        ({"client-certificate": "/dev/zero", "client-key": "/dev/zero"}, None, ("/dev/zero",)),
        ({"token": "t"}, {"server": "https://127.0.0.1:1", "certificate-authority": "/dev/zero"},
         ("certificate-authority",)),
    ],
)  # fmt: skip
def test_files_a_kubeconfig_names_are_read_with_a_cap(
    tmp_path: Path, user: dict[str, Any], cluster: dict[str, Any] | None, names: tuple[str, ...]
) -> None:
    kubeconfig = _kubeconfig(tmp_path / "config", user, cluster)
    _one_line_error(_diagnose_live(kubeconfig), *names)


def test_a_deeply_nested_kubeconfig_is_one_line(tmp_path: Path) -> None:
    """The crash path (a parser recursing 20,000 deep) checked on a genuinely started process
    once, not only on a fork of the tests' fork server (tests/clirun.py)."""
    path = tmp_path / "config"
    path.write_text("a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    _one_line_error(_diagnose_live(path, fresh=True), str(path), "nested")
    path.write_text("".join(f"{' ' * i}- \n" for i in range(0, 6000, 2)) + "x\n")
    _one_line_error(_diagnose_live(path), str(path))


def test_an_alias_bomb_kubeconfig_is_refused_before_it_expands(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = tmp_path / "config"
    path.write_text("\n".join([*lines, "contexts: *a9", "users: *a9", ""]))
    _one_line_error(_diagnose_live(path), str(path), "aliases")


def test_password_file_is_read_with_a_cap(tmp_path: Path) -> None:
    dsn = "postgresql://app@127.0.0.1:1/p"
    done = _cli("probe", "postgres", dsn, "--password-file", "/dev/zero", "--timeout", "1")
    _one_line_error(done, "--password-file /dev/zero")
    big = tmp_path / "pw"
    big.write_bytes(b"x" * (1024 * 1024))
    done = _cli("probe", "postgres", dsn, "--password-file", str(big), "--timeout", "1")
    _one_line_error(done, str(big), "limit")


def test_record_into_a_device_is_one_line_and_leaves_the_device_alone() -> None:
    done = _cli("probe", "tcp", "127.0.0.1:1", "--timeout", "1", "--record", "/dev/full")
    _one_line_error(done, "--record /dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_record_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "probes.json").mkdir(parents=True)  # a directory where the file would go
    done = _cli("probe", "tcp", "127.0.0.1:1", "--timeout", "1", "--record", str(bundle))
    _one_line_error(done, "--record")
    full = _cli("probe", "tcp", "127.0.0.1:1", "--timeout", "1", "--record", "/dev/full/x")
    _one_line_error(full, "cannot write")


def test_netpol_expectations_are_read_with_a_cap(tmp_path: Path) -> None:
    objects = tmp_path / "objects.json"
    objects.write_text(_objects('"1"'))
    _one_line_error(_cli("netpol", "assert", str(objects), "/dev/zero"), "/dev/zero")


def test_an_api_answer_with_a_5000_digit_number_is_a_gap_not_the_end_of_the_run(
    kubeconfig: Path, server: fakeapi.FakeApiServer
) -> None:
    server.raw["/api/v1/namespaces/app/events"] = f'{{"kind": "EventList", "items": [{HUGE}]}}'
    evidence: model.Evidence = livekit.gather(kubeconfig, limits=timeouts.DEFAULT)
    assert any("not JSON Kubernetes would send" in str(gap) for gap in evidence.gaps), evidence.gaps
    assert evidence.kind("Deployment")


@pytest.fixture
def tls_server(tmp_path: Path) -> Any:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on PATH (needed to make the test API server's certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=kubernetes", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with livekit.seed_server(tls=(cert, key)) as srv:
        yield srv


def test_insecure_skip_tls_verify_is_one_line_of_ours_not_a_warning_per_request(
    tls_server: fakeapi.FakeApiServer, tmp_path: Path
) -> None:
    config = _kubeconfig(
        tmp_path / "config", {"token": "t"},
        {"server": tls_server.url, "insecure-skip-tls-verify": True},
    )  # fmt: skip
    done = _diagnose_live(config, "-o", "json", limited=False)
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["findings"]
    lines = done.stderr.splitlines()
    assert lines == [
        "paramedic: warning: TLS verification is off for context c (insecure-skip-tls-verify):"
        " anyone on the path to the API server could answer in its place"
    ], lines


def test_a_failing_exec_plugin_adds_no_library_log_lines(tmp_path: Path) -> None:
    plugin = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "sh",
        "args": ["-c", "echo plugin exploded >&2; exit 1"],
        "interactiveMode": "Never",
    }
    done = _diagnose_live(_kubeconfig(tmp_path / "config", {"exec": plugin}), limited=False)
    assert "ERROR:root" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "credential plugin of context c failed: exec: process returned 1. plugin exploded" in (
        done.stderr
    )
