"""`diagnose --apply` against the fake API server, with the real policy engine verifying: the
fix is dry-run, created, and the cluster diagnosed again; a fix that does not verify is deleted
again; nothing is created when the dry run is refused or nobody said yes."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

import clirun
from paramedic.cli import incident_options
from paramedic.runbooks import diagnosis

from . import fakeapi

INCIDENT = ("--from", "user-service", "--to", "profile-db.data", "--port", "5432", "--brief")
FIX = "NetworkPolicy app/allow-user-service-to-profile-db-5432"
PATH = "/apis/networking.k8s.io/v1/namespaces/app/networkpolicies?fieldManager=paramedic"


def _apply(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, *flags: str
) -> tuple[int, str, str]:
    return clirun.run(capsys, "diagnose", "--kubeconfig", str(kubeconfig), *INCIDENT, *flags)


def _request(kubeconfig: Path) -> incident_options.LiveRequest:
    """What `diagnose --kubeconfig K -n app --from user-service --to profile-db.data --port 5432`
    asks, for calling cli.apply directly."""
    return incident_options.LiveRequest(
        source="user-service", selector=None, target="profile-db.data", port="5432",
        namespace="app", timeout=20.0, since=None, kubeconfig=str(kubeconfig), context=None,
        probe_pod=False, probe_image=None, db_probe=False, cloud=None,
    )  # fmt: skip


def _writes(server: fakeapi.FakeApiServer) -> list[tuple[str, str]]:
    return [(method, path) for method, path in server.requests if method != "GET"]


def test_the_fix_is_dry_run_created_labelled_and_verified(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 0, err
    assert "CAUSE network-policy" in out  # the report comes first, as without --apply
    assert err.splitlines() == [
        f"paramedic: apply: will create {FIX} (field manager paramedic, label"
        " app.kubernetes.io/managed-by=paramedic)",
        "paramedic: apply: the API server accepted a dry run (nothing stored)",
        f"paramedic: apply: created {FIX}",
        "paramedic: apply: verified: network-policy is ruled out now",
    ]
    assert _writes(server) == [("POST", f"{PATH}&dryRun=All"), ("POST", PATH)]
    [made] = server.created
    assert made["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "paramedic"
    assert made["metadata"]["annotations"]["paramedic.io/incident"] == (
        "Deployment app/user-service -> Service data/profile-db"
    )
    assert made["metadata"]["managedFields"] == [{"manager": "paramedic"}]
    code, out, _ = clirun.run(capsys, "diagnose", "--kubeconfig", str(kubeconfig), *INCIDENT)
    assert code == 0 and "CAUSE" not in out  # the cluster itself no longer has the cause


def _no_rules(policy: dict[str, Any]) -> dict[str, Any]:
    """An admission webhook that drops the egress rules: the policy then opens nothing."""
    policy["spec"]["egress"] = []
    return policy


def test_a_fix_that_does_not_verify_is_removed_again(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.admit = _no_rules
    code, _, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 1, err
    last = err.splitlines()[-1]
    assert last.startswith("paramedic: apply: not verified (network-policy is still cause:")
    assert last.endswith("); removed again: nothing changed")
    assert [m for m, _ in _writes(server)] == ["POST", "POST", "DELETE"]
    assert server.deleted == ["app/allow-user-service-to-profile-db-5432"]
    assert not [o for o in server.objects if o in server.created]


def test_a_refused_dry_run_changes_nothing(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.forbidden = {("create", "networkpolicies", "app")}
    code, out, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 2 and "CAUSE network-policy" in out
    assert err.splitlines()[-1] == (
        f"paramedic: error: --apply: the API server refused a dry run of {FIX}:"
        ' networkpolicies.networking.k8s.io is forbidden: User "tester" cannot create resource'
        ' "networkpolicies" in API group "networking.k8s.io" in the namespace "app";'
        " nothing changed"
    )
    assert _writes(server) == [("POST", f"{PATH}&dryRun=All")]
    assert server.created == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stdin", "said"),
    [
        (io.StringIO("y\n"), "--apply asks before it changes anything: answer at a terminal"),
        (_Terminal("n\n"), "--apply: declined; nothing changed"),
    ],
    ids=["no-terminal", "declined"],
)
def test_nothing_is_created_without_a_yes(
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: io.StringIO,
    said: str,
) -> None:
    monkeypatch.setattr("sys.stdin", stdin)
    code, _, err = _apply(capsys, kubeconfig, "--apply")
    assert code == 2
    assert f"paramedic: error: {said}" in err, err
    assert _writes(server) == [("POST", f"{PATH}&dryRun=All")]  # asked only after the dry run
    assert server.created == []


def test_a_yes_at_the_terminal_applies(
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    code, _, err = _apply(capsys, kubeconfig, "--apply")
    assert code == 0, err
    assert "create it now? [y/N]" in err
    assert len(server.created) == 1


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("src/paramedic/demos/seed", "--apply"), "--apply works only live"),
        (("--kubeconfig", "k", "--yes"), "--yes goes with --apply"),
        (
            ("--kubeconfig", "k", "--apply", "--watch", "5"),
            "--apply verifies once by itself: drop --watch or --apply",
        ),
    ],
)
def test_apply_is_refused_where_it_cannot_verify(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], said: str
) -> None:
    code, out, err = clirun.run(capsys, "diagnose", *argv, *INCIDENT)
    assert (code, out) == (2, "")
    assert err.startswith(f"paramedic: error: {said}"), err


def test_a_verified_fix_names_the_causes_that_remain(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another cause the first diagnosis ranked lower (here: one the second diagnosis adds) is
    named, so nobody takes 'verified' for 'fixed'."""
    from paramedic.checks import model
    from paramedic.cli import apply, diagnose

    request = _request(kubeconfig)
    before = diagnose._live_diagnosis(request)
    pool = model.Finding(check="connection-pool", verdict=model.Verdict.CAUSE, summary="full")

    def again() -> diagnosis.Diagnosis:
        after = diagnose._live_diagnosis(request)
        return dataclasses.replace(after, findings=(pool, *after.findings))

    assert apply.run(request, before, yes=True, diagnose_again=again) == 0
    assert capsys.readouterr().err.splitlines()[-1] == (
        "paramedic: apply: verified: network-policy is ruled out now; still a cause:"
        " connection-pool"
    )


def test_with_no_cause_there_is_nothing_to_apply(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _apply(capsys, kubeconfig, "--apply", "--yes")[0] == 0
    server.requests.clear()
    code, _, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 0
    assert err.splitlines() == ["paramedic: apply: no cause found, nothing to apply"]
    assert _writes(server) == []


def test_a_verification_that_crashes_removes_the_fix_again(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from paramedic.cli import apply, diagnose

    request = _request(kubeconfig)

    def broken() -> diagnosis.Diagnosis:
        raise RuntimeError("a bug")

    assert (
        apply.run(request, diagnose._live_diagnosis(request), yes=True, diagnose_again=broken) == 1
    )
    assert capsys.readouterr().err.splitlines()[-1] == (
        "paramedic: apply: not verified (the cluster could not be diagnosed again: a bug);"
        " removed again: nothing changed"
    )
    assert server.deleted == ["app/allow-user-service-to-profile-db-5432"]


def _both_sides_blocked(server: fakeapi.FakeApiServer) -> None:
    """The database's ingress policy admits another client only: both sides now deny."""
    [ingress] = [o for o in server.objects if o["metadata"].get("name") == "profile-db-ingress"]
    ingress["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"] = {"app": "other"}


def test_a_fix_of_two_policies_is_created_whole_and_verified(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _both_sides_blocked(server)
    code, _, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 0, err
    assert sorted(o["metadata"]["namespace"] for o in server.created) == ["app", "data"]
    assert err.splitlines()[-1] == "paramedic: apply: verified: network-policy is ruled out now"


def test_a_fix_whose_second_policy_fails_is_not_left_half_applied(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _both_sides_blocked(server)
    argv = ("diagnose", "--kubeconfig", str(kubeconfig), *INCIDENT[:-1], "-o", "json")
    code, out, _ = clirun.run(capsys, *argv)  # the names the fix gives its two policies
    [cause] = [f for f in json.loads(out)["findings"] if f["verdict"] == "cause"]
    names = [
        (s["action"]["object"]["metadata"]["namespace"], s["action"]["object"]["metadata"]["name"])
        for s in cause["fix"]["steps"]
    ]
    assert code == 1 and len(names) == 2, out
    server.fail_creating = {names[1][1]}
    code, _, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 2
    assert err.splitlines()[-1] == (
        f"paramedic: error: --apply: creating NetworkPolicy {names[1][0]}/{names[1][1]} failed:"
        f" etcdserver: request timed out; removed again: NetworkPolicy {names[0][0]}/{names[0][1]}"
    )
    assert server.deleted == [f"{names[0][0]}/{names[0][1]}"]
    assert [o for o in server.objects if o.get("kind") == "NetworkPolicy"] == [
        o for o in server.objects if o.get("kind") == "NetworkPolicy" and o not in server.created
    ]


def test_a_refusal_quoting_escape_sequences_reaches_the_terminal_inert(
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An admission webhook's message is the cluster's text: an OSC 52 sequence in it would
    write the reader's clipboard, a CSI one clear the screen."""
    message = 'admission webhook "guard" denied: \x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J no'

    def refuse(ns: str, policy: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        return 403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403,
                     "reason": "Forbidden", "message": message}  # fmt: skip

    monkeypatch.setattr(server, "_create_policy", refuse)
    code, _, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err
    assert "denied: \\x1b]52;c;ZWNobyBoaQ==\\x07\\x1b[2J no; nothing changed" in err


def test_a_removal_that_fails_is_said_loudly(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not verified, and the user may create but not delete: the policy stays, and the last
    line says so (with the API server's reason), and the exit status is its own."""
    server.admit = _no_rules
    server.forbidden = {("delete", "networkpolicies", "app")}
    code, _, err = _apply(capsys, kubeconfig, "--apply", "--yes")
    assert code == 4  # changed, and not undone: a script must not read it as 'nothing changed'
    last = err.splitlines()[-1]
    assert "; could NOT remove: NetworkPolicy app/allow-user-service-to-profile-db-5432:" in last
    assert 'User "tester" cannot delete resource "networkpolicies"' in last
    assert len([o for o in server.objects if o in server.created]) == 1
