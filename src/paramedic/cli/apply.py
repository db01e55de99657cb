"""`diagnose --apply`: the top cause's fix applied, verified, and undone if it did not work.

After the report (stdout, as always): the plan (runbooks.remedy: only a fix that can do
nothing but open the blocked flow) → a server-side dry run → a confirmation (y/N at a
terminal, or --yes) → the objects created (gather.apply) → verification: the live cluster is
gathered and diagnosed again, and the check that found the cause must now rule it out →
otherwise what was created is deleted again. Each step is one line on stderr
(`paramedic: apply: ...`). Nothing is changed before the dry run passed and the user agreed.

Exit status: 0 applied and verified (or no cause to fix); 1 applied but not verified, so
removed again; 2 not applied (refused by the plan or the dry run, declined, or bad input);
4 applied, not verified, and not removed: the cluster was changed (the last line says what).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from paramedic import errors, timeouts
from paramedic.checks import model
from paramedic.cli import incident_options
from paramedic.reports import safe
from paramedic.runbooks import diagnosis, remedy

LEFT_IN_PLACE = 4
"""The exit status when a fix that did not verify could not be removed again."""


def run(
    request: incident_options.LiveRequest,
    result: diagnosis.Diagnosis,
    *,
    yes: bool,
    diagnose_again: Callable[[], diagnosis.Diagnosis],
) -> int:
    from paramedic.gather import apply as writer
    from paramedic.gather import kubeapi

    if not result.causes:
        _say("no cause found, nothing to apply")
        return 0
    plan = remedy.plan(result)
    _say(
        f"will create {plan.describe()} (field manager {writer.FIELD_MANAGER}, label"
        f" {remedy.APPLIED_BY}=paramedic)"
    )
    limits = timeouts.DEFAULT.scaled_to(request.timeout)
    try:
        api = kubeapi.connect(
            kubeconfig=request.kubeconfig,
            context=request.context,
            pool_size=2,
            timeout=limits.total,
        )
        try:
            writer.dry_run(api, plan.objects, limits.request)
            _say("the API server accepted a dry run (nothing stored)")
            if not yes:
                _confirm()
            created = writer.create(api, plan.objects, limits.request)
            _say(f"created {', '.join(c.ref() for c in created)}")
            after, still = _verified(diagnose_again, plan.check)
            if not still:
                others = [f.check for f in after.causes] if after is not None else []
                left = f"; still a cause: {', '.join(others)}" if others else ""
                _say(f"verified: {plan.check} is ruled out now{left}")
                return 0
            undone = writer.remove(api, created, limits.request)
            if undone:
                _say(f"not verified ({still}); could NOT remove: {'; '.join(undone)}")
                return LEFT_IN_PLACE
            _say(f"not verified ({still}); removed again: nothing changed")
            return 1
        finally:
            kubeapi.close(api)
    except errors.KubeAccessError as exc:
        raise errors.InputError(f"--apply: {exc}") from exc


def _verified(
    diagnose_again: Callable[[], diagnosis.Diagnosis], check: str
) -> tuple[diagnosis.Diagnosis | None, str]:
    """The cluster diagnosed again, and why the fix is not verified ('' when the check now
    rules the cause out)."""
    try:
        after = diagnose_again()
    except Exception as exc:  # even a bug: what cannot be verified is removed again
        return None, f"the cluster could not be diagnosed again: {exc}"
    finding = next((f for f in after.findings if f.check == check), None)
    if finding is None:
        return after, f"{check} did not run again"
    if finding.verdict is model.Verdict.RULED_OUT:
        return after, ""
    return after, f"{check} is still {finding.verdict}: {finding.summary}"


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise errors.InputError(
            "--apply asks before it changes anything: answer at a terminal, or pass --yes"
        )
    if not click.confirm("paramedic: apply: create it now?", default=False, err=True):
        raise errors.InputError("--apply: declined; nothing changed")


def _say(line: str) -> None:
    """One line on stderr; it may quote the cluster (names, a finding's summary)."""
    click.echo(f"paramedic: apply: {safe.line(line)}", err=True)
