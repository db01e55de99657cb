"""`paramedic rbac --check`: the API server's own authorizer says, one SelfSubjectAccessReview
per permission, whether the kubeconfig's user may already do what paramedic needs; what is
missing is listed with the command that grants it. The fake API server answers the reviews
from the same `forbidden` set it refuses requests with."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

import clirun
from paramedic.kube import rbac

from . import fakeapi

OPTIONAL = ("--secret", "app/profile-db-credentials", "--probe-pod", "app", "--db-probe", "data")
GRANT = rbac.Grant(
    secrets=(("app", "profile-db-credentials"),), probe_pods=("app",), db_probes=("data",)
)


def _check(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, *args: str
) -> tuple[int, str, str]:
    return clirun.run(capsys, "rbac", "--check", "--kubeconfig", str(kubeconfig), *args)


def test_a_user_with_every_permission_is_told_so_after_one_review_each(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _check(capsys, kubeconfig, *OPTIONAL)
    needed = rbac.needed(GRANT)
    assert (code, err) == (0, "")
    assert out == f"user tester (context fake) has all {len(needed)} permissions paramedic needs\n"
    asked = {tuple(sorted(r.items())) for r in server.reviews}
    assert asked == {tuple(sorted(p.attributes().items())) for p in needed}
    assert len(server.reviews) == len(needed)  # the alternative verb only when the first is no
    secret = {"verb": "get", "resource": "secrets", "namespace": "app"}
    assert {**secret, "name": "profile-db-credentials"} in server.reviews
    assert {"verb": "list", "group": "networking.k8s.io", "resource": "networkpolicies"} in (
        server.reviews
    )


def test_what_is_missing_is_listed_with_the_command_that_grants_it(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.forbidden = {
        ("list", "events", "data"),  # one namespace refused: cluster-wide is not granted
        ("get", "secrets", "app"),
        ("delete", "pods", None),
    }
    code, out, err = _check(capsys, kubeconfig, *OPTIONAL)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"user tester (context fake) lacks 3 of the {len(rbac.needed(GRANT))} permissions"
        " paramedic needs:",
        "  ✗ list events (cluster-wide)",
        "  ✗ get secrets app/profile-db-credentials",
        "  ✗ delete pods (in app)",
        "to grant it, an admin runs (as pasted):",
        "paramedic rbac --user tester --secret app/profile-db-credentials --probe-pod app"
        " --db-probe data | kubectl apply -f -",
    ]


@pytest.mark.parametrize(
    ("refused", "code"),
    [
        ({("create", "pods/portforward", None)}, 0),
        ({("get", "pods/portforward", None)}, 0),
        ({("create", "pods/portforward", None), ("get", "pods/portforward", None)}, 1),
    ],
)
def test_either_verb_of_the_port_forward_is_enough(
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
    refused: set[tuple[str, str, str | None]],
    code: int,
) -> None:
    """Kubernetes 1.31+ authorizes the port-forward's websocket as `create`, older ones as
    `get`: the Role grants both, and a user who has one of them may probe."""
    server.forbidden = refused
    done, out, _ = _check(capsys, kubeconfig, "--db-probe", "data")
    assert done == code
    assert ("✗ create pods/portforward (in data)" in out) is bool(code), out


def test_an_api_server_that_answers_no_review_is_one_line(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.broken = {"/apis/authorization.k8s.io"}
    code, out, err = _check(capsys, kubeconfig)
    assert (code, out) == (2, "")
    assert err == (
        f"paramedic: error: the API server {server.url} of context fake answered no access"
        " review: HTTP 500\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--check", "--user", "alice"), "--check reviews your own access: drop --user"),
        (("--kubeconfig", "k"), "--kubeconfig and --context go with --check"),
        (("--context", "prod", "--user", "a"), "--kubeconfig and --context go with --check"),
    ],
)
def test_check_and_print_options_are_not_mixed(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = clirun.run(capsys, "rbac", *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"paramedic: error: {message}"), err


@pytest.mark.parametrize(
    ("user", "flag"),
    [
        ("system:serviceaccount:paramedic:paramedic", "--service-account paramedic/paramedic"),
        ("alice@corp.example", "--user alice@corp.example"),
        ("CN=bob, O=ops", "--user 'CN=bob, O=ops'"),
    ],
)
def test_the_grant_names_the_reviewed_user_as_paramedic_rbac_takes_it(
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
    user: str,
    flag: str,
) -> None:
    server.user = user
    server.forbidden = {("list", "events", None)}
    code, out, _ = _check(capsys, kubeconfig)
    assert code == 1
    assert out.splitlines()[0].startswith(f"user {user} (context fake) lacks 1 of the")
    assert out.splitlines()[-1] == f"paramedic rbac {flag} | kubectl apply -f -"
    # flush-left and runnable as pasted: bash parses it; the user name reaches paramedic whole
    command = out.splitlines()[-1]
    parsed = subprocess.run(["bash", "-n", "-c", command], capture_output=True, timeout=10)
    assert parsed.returncode == 0, parsed.stderr
    assert shlex.split(command.partition(" | ")[0])[2:] == shlex.split(flag)


def test_a_user_name_from_the_server_is_shown_inert(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.user = "mallory\x1b]0;pwned\x07"
    server.forbidden = {("list", "events", None)}
    code, out, _ = _check(capsys, kubeconfig)
    assert code == 1 and "\x1b" not in out and "\x07" not in out
    assert out.startswith("user mallory\\x1b]0;pwned\\x07 (context fake) lacks 1")
