"""Renderers: every format shows the same diagnosis; text from the cluster is never markup."""

from __future__ import annotations

import json

from paramedic.checks import model
from paramedic.reports import html_report, json_report, markdown_report, text_report
from paramedic.runbooks import diagnosis

HOSTILE = "<script>alert('x')</script> [bold]not markup[/bold]"


def _diagnosis() -> diagnosis.Diagnosis:
    finding = model.Finding(
        check="dns",
        verdict=model.Verdict.CAUSE,
        confidence=model.Confidence.HIGH,
        summary="the name does not resolve",
        evidence=(model.Cite(text=HOSTILE, source="log app/x/app:1"),),
        fix=model.Fix(
            summary="point DB_HOST at the Service",
            steps=(
                model.FixStep(
                    description="set the env var",
                    language="shell",
                    content="kubectl set env deployment/x -n app DB_HOST=db.data.svc.cluster.local",
                ),
            ),
            rollback="kubectl set env deployment/x -n app DB_HOST=db",
        ),
        why="short names resolve in the client's namespace",
        verify="kubectl -n app logs deploy/x | grep -c 'could not translate'",
    )
    return diagnosis.Diagnosis(
        runbook="db-connectivity",
        title="A service cannot connect to its database",
        incident={
            "source": "Deployment app/x",
            "target": "Service data/db",
            "port": 5432,
            "namespace": "app",
        },
        findings=(finding,),
        provenance="test",
        gaps=("cannot list networkpolicies in data: forbidden",),
    )


def test_html_escapes_evidence_text() -> None:
    page = html_report.render(_diagnosis())
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_text_report_prints_rich_markup_in_evidence_literally() -> None:
    text = text_report.render(_diagnosis(), width=100, color=False)
    assert "[bold]not markup[/bold]" in text


def test_every_format_carries_fix_verify_undo_and_gaps() -> None:
    d = _diagnosis()
    for rendered in (
        text_report.render(d, width=100, color=False),
        markdown_report.render(d),
        html_report.render(d),
    ):
        assert "DB_HOST=db.data.svc.cluster.local" in rendered
        assert "could not translate" in rendered
        assert "DB_HOST=db" in rendered
        assert "cannot list networkpolicies in data: forbidden" in rendered
    doc = json.loads(json_report.render(d))
    assert doc["findings"][0]["fix"]["rollback"] == "kubectl set env deployment/x -n app DB_HOST=db"
    assert doc["gaps"] == ["cannot list networkpolicies in data: forbidden"]


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in text_report.render(_diagnosis(), color=False)
    assert "\x1b[" in text_report.render(_diagnosis(), color=True)


def test_no_cause_with_inconclusive_checks_does_not_read_as_all_clear() -> None:
    unsure = model.Finding(
        check="credentials",
        verdict=model.Verdict.INCONCLUSIVE,
        summary="Secrets not in the evidence",
        missing="kubectl describe secret db -n app",
    )
    d = diagnosis.Diagnosis(
        runbook="db-connectivity",
        title="t",
        incident={"source": "a", "target": "b", "port": 5432, "namespace": "app"},
        findings=(unsure,),
    )
    for rendered in (text_report.render(d), markdown_report.render(d), html_report.render(d)):
        assert "lacked evidence" in rendered and "No cause found in the evidence" not in rendered
        assert "(credentials: see what" in rendered
        assert "kubectl describe secret db -n app" in rendered


def test_no_cause_with_checks_that_could_not_run_says_so_in_every_format() -> None:
    d = diagnosis.Diagnosis(
        runbook="db-connectivity",
        title="t",
        incident={"source": "a", "target": "b", "port": 5432, "namespace": "app"},
        findings=(),
        errors=(diagnosis.CheckError(check="dns", error="KeyError: 'spec'"),),
    )
    for rendered in (text_report.render(d), markdown_report.render(d), html_report.render(d)):
        assert "1 check(s) could not run" in rendered
        assert "No cause found in the evidence" not in rendered
