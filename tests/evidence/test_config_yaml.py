"""YAML that people write or that evidence embeds, with values shaped like dates no calendar has
(month 13, day 32, year 0, a five-digit year, a 99-hour UTC offset): read as the strings they
are; what no reader can build is one line naming the file, or the object and field, never an
internal error (exit 3) or a check error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clirun import run
from paramedic import errors
from paramedic.checks import signatures
from paramedic.evidence import demos, yamltext
from paramedic.netpol.istio import mesh
from paramedic.runbooks import model as runbook_model
from paramedic.serve import routes

HOSTILE = ["2024-13-01", "2024-01-32", "0000-01-01", "99999-01-01", "2024-01-01T00:00:00+99:00"]
UNBUILDABLE = "!!timestamp 2024-13-01"


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_shaped_like_an_impossible_date_stays_the_string_it_shows(value: str) -> None:
    assert yamltext.load(f"when: {value}\n") == {"when": value}


def test_a_real_date_also_stays_a_string_as_the_api_returns_it() -> None:
    assert yamltext.load("when: 2024-02-29\n") == {"when": "2024-02-29"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"when: {UNBUILDABLE}\n", "invalid YAML: a value YAML cannot build (month must be in"),
        ("a: 1\nb: [c\n", "line 3: invalid YAML: did not find expected"),
        ("n: " + "9" * 5000 + "\n", "invalid YAML: a value YAML cannot build"),
    ],
)
def test_what_no_reader_can_build_is_one_not_yaml_line(text: str, says: str) -> None:
    with pytest.raises(yamltext.NotYaml) as raised:
        yamltext.load(text)
    assert says in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_runbook_title_shaped_like_a_date_is_the_title(value: str) -> None:
    text = f"id: dated\ntitle: {value}\nchecks: [dns]\n"
    assert runbook_model.parse(text, where="r.yaml").title == value


def test_an_unbuildable_runbook_value_names_the_file() -> None:
    with pytest.raises(errors.RunbookError) as raised:
        runbook_model.parse(f"id: x\ntitle: {UNBUILDABLE}\nchecks: [dns]\n", where="r.yaml")
    assert str(raised.value).startswith("r.yaml: invalid YAML: a value YAML cannot build")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_route_label_shaped_like_a_date_matches_as_a_string(value: str) -> None:
    (route,) = routes.parse(f"- match: {{release: {value}}}\n  from: a\n  to: b\n", where="r")
    assert dict(route.match) == {"release": value}


def test_an_unbuildable_route_value_names_the_file() -> None:
    with pytest.raises(errors.InputError) as raised:
        routes.parse(f"- match: {{a: {UNBUILDABLE}}}\n  from: a\n  to: b\n", where="r.yaml")
    assert str(raised.value).startswith("r.yaml: invalid YAML:")


def test_an_unbuildable_signature_table_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="a value YAML cannot build"):
        signatures.parse(f"schema: {UNBUILDABLE}\n")


@pytest.mark.parametrize("value", [v for v in [*HOSTILE, UNBUILDABLE] if "99999" not in v])
def test_a_kubeconfig_with_an_impossible_date_is_exit_2_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    """Our reader keeps the value a string; the Kubernetes client's own SafeLoader still builds
    timestamps, and its refusal is the same one line naming the file (a five-digit year is
    no timestamp to it either)."""
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        f"contexts: [{{name: c, context: {{cluster: k, user: u}}, rotated: {value}}}]\n"
        "users: [{name: u, user: {token: abc}}]\n"
    )
    code, _, err = run(
        capsys, "diagnose", "--kubeconfig", str(kubeconfig), "--from", "a", "--to", "b"
    )
    assert code == 2, err
    assert err.count("\n") == 1 and str(kubeconfig) in err and "Traceback" not in err


def _mesh(text: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"namespace": "istio-system", "name": "istio"},
            "data": {"mesh": text}}  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE)
def test_a_mesh_config_with_an_impossible_date_still_names_its_trust_domain(value: str) -> None:
    found = mesh.config((_mesh(f"trustDomain: corp.example\nrolledOut: {value}\n"),))
    assert (found.trust_domain, found.problem) == ("corp.example", "")


def test_an_unreadable_mesh_config_is_not_evaluated_naming_the_configmap_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The istio-strict-mtls demo with `data.mesh` no reader can build: no check error, and the
    network-policy finding names ConfigMap istio-system/istio and its field."""
    bundle = tmp_path / "b"
    shutil.copytree(demos.root() / "istio-strict-mtls", bundle)
    objects = bundle / "objects.yaml"
    text = objects.read_text()
    start = text.index('    mesh: "defaultConfig')
    end = text.index("\n- apiVersion", start)
    objects.write_text(text[:start] + f'    mesh: "rootNamespace: {UNBUILDABLE}\\n"' + text[end:])
    code, out, err = run(capsys, "diagnose", str(bundle), "-o", "json")
    assert code in (0, 1), err
    diagnosis = json.loads(out)
    assert diagnosis["errors"] == []
    (finding,) = [f for f in diagnosis["findings"] if f["check"] == "network-policy"]
    said = " ".join(finding["evidence"])
    assert "ConfigMap istio-system/istio: data.mesh is not readable" in said
    assert "month must be in 1..12" in said
