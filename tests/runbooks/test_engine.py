"""The runbook engine: isolation of failing checks, ranking, and runbook file validation."""

from __future__ import annotations

import pytest

from paramedic import errors
from paramedic.checks import model, registry
from paramedic.evidence import model as evidence_model
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

V = model.Verdict
C = model.Confidence

EVIDENCE = evidence_model.Evidence.of(
    [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}},
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "client", "namespace": "app", "labels": {"app": "c"}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "db", "namespace": "app"},
            "spec": {"selector": {"app": "db"}, "ports": [{"name": "pg", "port": 5432}]},
        },
    ],
    provenance="test",
)
INCIDENT = evidence_model.Incident(source="client", target="db", namespace="app")


def _finding(
    check_id: str, verdict: V, confidence: C = C.MEDIUM, priority: int = 50
) -> model.Finding:
    return model.Finding(
        check=check_id,
        verdict=verdict,
        confidence=confidence,
        summary=check_id,
        priority=priority,  # type: ignore[arg-type]  # an int: the engine validates it
    )


def _register(check_id: str, verdict: V, confidence: C = C.MEDIUM, priority: int = 50) -> None:
    registry.check(check_id, title=check_id)(
        lambda ctx: _finding(check_id, verdict, confidence, priority)
    )


_register("t-cause-low", V.CAUSE, C.LOW)
_register("t-cause-high", V.CAUSE, C.HIGH)
_register("t-cause-urgent", V.CAUSE, C.LOW, priority=10)
_register("t-ruled-out", V.RULED_OUT, C.HIGH)
_register("t-inconclusive", V.INCONCLUSIVE, C.LOW)
_register("t-warning", V.WARNING)


@registry.check("t-crash", title="crashes")
def _crash(ctx: model.Context) -> model.Finding:
    raise KeyError("spec")


@registry.check("t-sees-earlier", title="reads earlier findings")
def _sees_earlier(ctx: model.Context) -> model.Finding:
    return _finding("t-sees-earlier", V.RULED_OUT if "t-ruled-out" in ctx.earlier else V.CAUSE)


@registry.check("t-returns-none", title="returns None")
def _returns_none(ctx: model.Context) -> model.Finding:
    return None  # type: ignore[return-value]


@registry.check("t-wrong-id", title="names another check")
def _wrong_id(ctx: model.Context) -> model.Finding:
    return _finding("t-cause-high", V.CAUSE)


@registry.check("t-off-scale", title="priority off the Priority scale")
def _off_scale(ctx: model.Context) -> model.Finding:
    return _finding("", V.CAUSE, priority=7)


@registry.check("t-anonymous", title="leaves check and title to the engine")
def _anonymous(ctx: model.Context) -> model.Finding:
    return model.Finding(verdict=V.CAUSE, summary="x", priority=model.Priority.PATH)


def _runbook(checks: tuple[str, ...], next_: tuple[str, ...] = ()) -> runbook_model.Runbook:
    return runbook_model.Runbook(id="test", title="test", checks=checks, next=next_)


def test_a_crashing_check_becomes_an_error_and_the_others_still_run() -> None:
    result = engine.run(_runbook(("t-crash", "t-cause-high")), EVIDENCE, INCIDENT)
    assert [f.check for f in result.findings] == ["t-cause-high"]
    assert [(e.check, e.error) for e in result.errors if e.check.startswith("t-")] == [
        ("t-crash", "KeyError: 'spec'")
    ]


@pytest.mark.parametrize(
    ("check_id", "error"),
    [
        ("t-returns-none", "TypeError: check returned NoneType, not a Finding"),
        (
            "t-wrong-id",
            "ValueError: finding names check 't-cause-high', registered as 't-wrong-id'",
        ),
        ("t-off-scale", "ValueError: 7 is not a valid Priority"),
    ],
)
def test_a_check_that_breaks_the_contract_becomes_an_error_not_a_crash(
    check_id: str, error: str
) -> None:
    result = engine.run(_runbook((check_id, "t-ruled-out")), EVIDENCE, INCIDENT)
    assert [f.check for f in result.findings] == ["t-ruled-out"]
    assert [(e.check, e.error) for e in result.errors if e.check.startswith("t-")] == [
        (check_id, error)
    ]


def test_the_engine_stamps_check_id_title_and_priority_from_the_registration() -> None:
    result = engine.run(_runbook(("t-anonymous",)), EVIDENCE, INCIDENT)
    (finding,) = result.findings
    assert (finding.check, finding.title) == ("t-anonymous", "leaves check and title to the engine")
    assert finding.priority is model.Priority.PATH


def test_an_unknown_check_is_reported_as_not_available() -> None:
    result = engine.run(_runbook(("t-nonexistent", "t-ruled-out")), EVIDENCE, INCIDENT)
    mine = [e for e in result.errors if e.check.startswith("t-")]
    assert [e.check for e in mine] == ["t-nonexistent"]
    assert "not available" in mine[0].error


def test_causes_rank_by_priority_then_confidence_then_runbook_order() -> None:
    result = engine.run(
        _runbook(
            ("t-ruled-out", "t-inconclusive", "t-cause-low", "t-cause-high", "t-cause-urgent")
        ),
        EVIDENCE,
        INCIDENT,
    )
    assert [f.check for f in result.findings] == [
        "t-cause-urgent",
        "t-cause-high",
        "t-cause-low",
        "t-inconclusive",
        "t-ruled-out",
    ]


def test_a_finding_without_title_gets_its_check_title() -> None:
    result = engine.run(_runbook(("t-ruled-out",)), EVIDENCE, INCIDENT)
    assert result.findings[0].title == "t-ruled-out"


def test_next_checks_go_to_next_not_findings() -> None:
    result = engine.run(_runbook(("t-ruled-out",), ("t-warning",)), EVIDENCE, INCIDENT)
    assert [f.check for f in result.next] == ["t-warning"]
    assert [f.check for f in result.findings] == ["t-ruled-out"]


def test_a_check_sees_the_findings_of_checks_before_it() -> None:
    result = engine.run(_runbook(("t-ruled-out", "t-sees-earlier")), EVIDENCE, INCIDENT)
    assert {f.check: f.verdict for f in result.findings}["t-sees-earlier"] is V.RULED_OUT


def test_incident_resolution_uses_the_service_only_port() -> None:
    result = engine.run(_runbook(("t-ruled-out",)), EVIDENCE, INCIDENT)
    assert result.incident == {
        "source": "Pod app/client",
        "target": "Service app/db",
        "port": 5432,
        "namespace": "app",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: Bad Id\ntitle: t\nchecks: [dns]\n", "field id:"),
        ("id: ok\ntitle: t\nchecks: []\n", "field checks:"),
        ("id: ok\ntitle: t\nchecks: [dns]\nsurprise: 1\n", "field surprise:"),
        ("id: ok\ntitle: t\nchecks: [dns]\ndefault_port: 70000\n", "field default_port:"),
        ("id: [unclosed\n", "invalid YAML"),
    ],
)
def test_invalid_runbook_files_get_one_line_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(errors.RunbookError) as raised:
        runbook_model.parse(text, where="my-runbook.yaml")
    assert str(raised.value).startswith("my-runbook.yaml: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_reference_runbook_lists_every_contract_check_id() -> None:
    runbook = runbook_model.builtin("db-connectivity")
    assert set(runbook.checks) == {
        "network-policy",
        "dns",
        "resources",
        "connection-pool",
        "firewall",
        "credentials",
        "service-endpoints",
    }
    assert runbook.next == ("readiness-probe",)
    assert runbook.checks[0] == "network-policy"
