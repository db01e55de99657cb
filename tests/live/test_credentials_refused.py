"""Credentials the API server does not take, said as such (and never as a missing object).

- An exec credential plugin that fails (an expired SSO session, a plugin not installed, output
  that is not an ExecCredential) stops the run before any request, with the plugin's own
  message, as kubectl does. The client library only logs that failure and carries on without
  credentials; the run then said "no Deployment named 'user-service'".
- A token refused on every request (401) is one line naming the context, not a diagnosis of
  an empty cluster.
- A lookup RBAC refuses is "cannot tell whether it exists", not "no such object"; a user who
  may read nothing at all is told which role to bind.

The fake API server here takes only `Bearer test-token` (the token of its kubeconfig), as a
real one answers 401 to anything else."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import clirun

from . import fakeapi

INCIDENT = ("--from", "user-service", "--to", "profile-db.data", "--port", "5432")


@pytest.fixture
def strict(server: fakeapi.FakeApiServer) -> fakeapi.FakeApiServer:
    server.bearer = "test-token"
    return server


def _with_user(kubeconfig: Path, user: dict[str, Any]) -> Path:
    config = yaml.safe_load(kubeconfig.read_text())
    config["users"][0]["user"] = user
    kubeconfig.write_text(yaml.safe_dump(config))
    return kubeconfig


EXPIRED_SSO = "echo 'The SSO session has expired.' >&2; echo 'Run aws sso login.' >&2; exit 255"


def _printing(status: dict[str, Any]) -> dict[str, Any]:
    """A plugin (this Python) that prints an ExecCredential with `status`."""
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": status,
    }
    return _plugin(sys.executable, "-c", f"print({json.dumps(json.dumps(credential))})")


def _plugin(command: str, *args: str) -> dict[str, Any]:
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": command,
            "args": list(args),
            "interactiveMode": "Never",
        }
    }


@pytest.mark.parametrize(
    ("plugin", "said"),
    [
        (
            _plugin("sh", "-c", EXPIRED_SSO),
            "exec: process returned 255. The SSO session has expired. Run aws sso login.",
        ),
        (
            _plugin("paramedic-test-no-such-auth-plugin"),
            "executable 'paramedic-test-no-such-auth-plugin' not found (is it installed, on PATH?)",
        ),
        (_plugin("echo", "Please log in"), "exec: failed to decode process output"),
        (
            _printing({}),
            "exec: missing token or clientCertificateData field in plugin output",
        ),
    ],
    ids=["exits-non-zero", "not-installed", "not-json", "no-token"],
)
def test_a_failing_credential_plugin_stops_the_run_with_its_own_message(
    strict: fakeapi.FakeApiServer,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
    plugin: dict[str, Any],
    said: str,
) -> None:
    config = _with_user(kubeconfig, plugin)
    code, out, err = clirun.run(capsys, "diagnose", "--kubeconfig", str(config), *INCIDENT)
    assert (code, out) == (2, "")
    assert err.startswith(
        "paramedic: error: kubeconfig: the credential plugin of context fake failed: " + said
    ), err
    assert err.count("\n") == 1, err
    assert strict.requests == []  # nothing was sent without credentials


def test_a_credential_in_the_plugins_message_is_masked(
    strict: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = _plugin("sh", "-c", "echo 'refresh failed: refresh_token=s3cr3t-r3fr3sh' >&2; exit 1")
    code, _, err = clirun.run(
        capsys, "diagnose", "--kubeconfig", str(_with_user(kubeconfig, plugin)), *INCIDENT
    )
    assert code == 2
    assert "refresh failed" in err and "s3cr3t-r3fr3sh" not in err, err


def test_a_plugin_that_gives_a_token_is_not_a_failure(
    strict: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = _printing({"token": "test-token"})
    code, out, err = clirun.run(
        capsys, "diagnose", "--kubeconfig", str(_with_user(kubeconfig, plugin)), *INCIDENT
    )
    assert code == 1, err  # the reference demo's cause, found
    assert "CAUSE network-policy" in out
    assert strict.tokens == {"Bearer test-token"}


def test_a_token_refused_on_every_request_is_one_line_not_a_missing_source(
    strict: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _with_user(kubeconfig, {"token": "expired-token"})
    code, out, err = clirun.run(capsys, "diagnose", "--kubeconfig", str(config), *INCIDENT)
    assert (code, out) == (2, "")
    assert err == (
        f"paramedic: error: the API server {strict.url} rejected the credentials of context fake"
        " on every request (401 Unauthorized): its token or client certificate is expired or"
        " wrong\n"
    )
    assert strict.requests  # it was asked, and refused


@pytest.mark.parametrize(
    ("forbidden", "said"),
    [
        (
            {("get", "deployments", None), ("list", "deployments", None)},
            "source: cannot tell whether 'user-service' exists in namespace 'app':",
        ),
        (
            {("get", "services", None), ("list", "services", None)},
            "target: cannot tell whether 'profile-db' exists in namespace 'data':",
        ),
    ],
)
def test_a_lookup_rbac_refuses_is_not_reported_as_a_missing_object(
    server: fakeapi.FakeApiServer,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
    forbidden: set[tuple[str, str, str | None]],
    said: str,
) -> None:
    server.forbidden = forbidden
    code, out, err = clirun.run(capsys, "diagnose", "--kubeconfig", str(kubeconfig), *INCIDENT)
    assert (code, out) == (2, "")
    assert err.startswith(f"paramedic: error: {said} cannot "), err
    assert err.rstrip().endswith("forbidden (for user tester)"), err


def test_a_user_who_may_read_nothing_is_told_which_role_to_bind(
    server: fakeapi.FakeApiServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.forbid_all = True
    code, out, err = clirun.run(capsys, "diagnose", "--kubeconfig", str(kubeconfig), *INCIDENT)
    assert (code, out) == (2, "")
    assert err == (
        "paramedic: error: context fake may read nothing: every read was forbidden (for user"
        " tester); bind that user the read-only ClusterRole paramedic-reader (`paramedic rbac"
        " --check` prints the command that does)\n"
    )
