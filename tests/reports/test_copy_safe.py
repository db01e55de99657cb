"""Every command every demo prints can be pasted: whole, flush-left, valid bash; kubectl patches
and manifests apply client-side to the evidence objects; SQL runs on a real PostgreSQL.

This is the reader at 3 a.m. with a terminal 80 columns wide: triple-click, paste, and it runs
(or, for the kubectl ones, here: kubectl itself accepts it with `--local`, without a cluster).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import pytest

from paramedic.evidence import demos
from paramedic.reports import text_report
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model
from probes import probefix_pg

from . import reportkit

DEMOS = [d.name for d in demos.available()]


@functools.cache  # each demo is diagnosed once for the ~130 renderings checked here
def _diagnose(name: str):  # type: ignore[no-untyped-def]
    evidence = demos.load(name)
    assert evidence.incident is not None
    return evidence, engine.run(
        runbook_model.builtin(evidence.incident.runbook), evidence, evidence.incident
    )


@pytest.mark.parametrize("name", DEMOS)
@pytest.mark.parametrize("columns", [80, 120])
def test_prose_wraps_to_the_width_and_only_commands_are_longer(name: str, columns: int) -> None:
    _, result = _diagnose(name)
    text = text_report.render(result, width=columns, color=False)
    blocks = reportkit.code_blocks(result, text)
    in_code = {i for block in blocks for i in range(block.first, block.first + block.count)}
    too_wide = [
        line for i, line in enumerate(text.split("\n")) if len(line) > columns and i not in in_code
    ]
    assert not too_wide, too_wide[:3]


def test_a_heredoc_ends_with_eof_at_column_0() -> None:
    _, result = _diagnose("seed")
    lines = text_report.render(result, width=80, color=False).split("\n")
    assert "kubectl apply -f - <<'EOF'" in lines
    assert "EOF" in lines
    assert not [line for line in lines if line.strip() == "EOF" and line != "EOF"]


@pytest.mark.parametrize("name", DEMOS)
@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("brief", [False, True], ids=["full", "brief"])
def test_every_printed_command_is_whole_flush_left_and_passes_bash_n(
    name: str, columns: int, brief: bool
) -> None:
    _, result = _diagnose(name)
    text = text_report.render(result, width=columns, color=False, brief=brief)
    for block in reportkit.code_blocks(result, text, brief=brief):
        if block.language == "shell":
            complaint = reportkit.bash_syntax(block.text)
            assert not complaint, f"{block.text[:200]!r}: {complaint}"


@pytest.mark.skipif(
    reportkit.kubectl() is None, reason="kubectl is not on PATH (.ci/run installs it)"
)
@pytest.mark.parametrize("name", DEMOS)
def test_kubectl_patches_and_manifests_apply_locally_to_the_evidence_objects(name: str) -> None:
    evidence, result = _diagnose(name)
    text = text_report.render(result, width=120, color=False)
    ran = 0
    for block in reportkit.code_blocks(result, text):
        for argv, stdin in reportkit.local_runs(block, evidence):
            done = reportkit.run_kubectl(argv, stdin)
            assert done.returncode == 0, f"kubectl {' '.join(argv)}: {done.stderr.strip()}"
            ran += 1
    fixes = [s for f in result.causes for s in (f.fix.steps if f.fix else ())]
    if any(s.content.startswith("kubectl") and " patch " in s.content for s in fixes):
        assert ran, "a kubectl patch was printed but none was run"


@pytest.fixture(scope="module")
def postgres() -> Iterator[probefix_pg.Server]:
    reason = probefix_pg.missing()
    if reason:
        pytest.skip(reason)
    server = probefix_pg.Server(probefix_pg.template(), name="sql-from-reports")
    try:
        yield server.start()
    finally:
        server.stop()


SQL_DEMOS = [n for n in DEMOS if n in {"too-many-connections", "two-causes"}]


@pytest.mark.parametrize("name", SQL_DEMOS)
def test_printed_sql_runs_on_postgresql(name: str, postgres: probefix_pg.Server) -> None:
    _, result = _diagnose(name)
    text = text_report.render(result, width=80, color=False)
    statements = [
        sql
        for block in reportkit.code_blocks(result, text)
        for sql in reportkit.sql_statements(block)
    ]
    assert statements, "these demos print SQL (a usage query, ALTER SYSTEM)"
    roles = {m for sql in statements for m in re.findall(r"ALTER ROLE (\w+)", sql)}
    with postgres.superuser() as conn:
        for role in roles:  # the cluster's roles, as the evidence names them
            conn.execute(f"DROP ROLE IF EXISTS {role}")  # type: ignore[call-overload]
            conn.execute(f"CREATE ROLE {role} LOGIN")  # type: ignore[call-overload]
        for sql in statements:
            conn.execute(sql)  # type: ignore[call-overload]
