"""`paramedic demo`, `paramedic diagnose` and `paramedic capture`."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from paramedic import errors, timeouts
from paramedic.cli import common, incident_options
from paramedic.cli import watch as watching
from paramedic.evidence import model

if TYPE_CHECKING:
    from paramedic.evidence import selection
    from paramedic.runbooks import diagnosis

FORMATS = ("text", "json", "markdown", "html", "slack")


def _render(result: diagnosis.Diagnosis, output: str, *, brief: bool = False) -> str:
    if output == "json":
        from paramedic.reports import json_report

        return json_report.render(result)
    if output == "markdown":
        from paramedic.reports import markdown_report

        return markdown_report.render(result)
    if output == "html":
        from paramedic.reports import html_report

        return html_report.render(result)
    if output == "slack":
        from paramedic.reports import slack_report

        return slack_report.render(result)
    from paramedic.reports import text_report

    return text_report.render(result, width=common.width(), color=common.is_terminal(), brief=brief)


def _diagnosis(
    evidence: model.Evidence, incident: model.Incident, budget: tuple[float, float] | None
) -> diagnosis.Diagnosis:
    """`budget`: (--timeout, the time.monotonic() it started at); the checks get what is left of
    it (at least engine.CHECKS_AT_LEAST), and one that has not finished then is inconclusive."""
    from paramedic.runbooks import engine
    from paramedic.runbooks import model as runbook_model

    runbook = runbook_model.builtin(incident.runbook)
    if budget is None:
        return engine.run(runbook, evidence, incident)
    timeout, started = budget
    deadline = engine.checks_deadline(started, timeout)
    return engine.run(runbook, evidence, incident, deadline=deadline, timeout=timeout)


def _run(
    evidence: model.Evidence,
    incident: model.Incident,
    shown: Shown,
    budget: tuple[float, float] | None = None,
) -> int:
    result = _diagnosis(evidence, incident, budget)
    click.echo(_render(result, shown.output, brief=shown.brief), nl=False)
    return 1 if result.causes else 0


@dataclasses.dataclass(frozen=True, slots=True)
class Shown:
    """How the diagnosis is printed: the format, and whether only the headline."""

    output: str
    brief: bool = False


def _output_options(f: common.F) -> common.F:
    """`-o FORMAT` and `--brief`, handed to the command as one `shown: Shown`."""

    @functools.wraps(f)
    def command(*args: Any, output: str, brief: bool, **kwargs: Any) -> Any:
        if brief and output != "text":
            raise errors.InputError("--brief prints the text headline: drop -o or --brief")
        return f(*args, shown=Shown(output, brief), **kwargs)

    command = click.option(
        "--brief",
        is_flag=True,
        help="Print only the headline: the top cause, the command to run, how to verify.",
    )(command)
    return cast("common.F", common.output_option(FORMATS)(command))


@click.command()
@click.argument("scenario", required=False)
@click.option("--list", "list_", is_flag=True, help="List the bundled demo incidents.")
@_output_options
def demo(scenario: str | None, list_: bool, shown: Shown) -> int:
    """Diagnose a bundled demo incident (default: the reference one).

    Exit status: 0 no cause found, 1 a cause found, 2 bad input, 3 internal error.
    """
    from paramedic.evidence import demos

    if list_:
        for item in demos.available():
            click.echo(f"{item.name:<24} {item.title}")
        return 0
    evidence = demos.load(scenario or demos.DEFAULT)
    return _run(evidence, incident_options.incident(evidence, None, None, None, None), shown)


@click.command()
@click.argument("bundle", required=False, type=click.Path(path_type=Path))
@incident_options.request_options
@_output_options
@click.option(
    "--watch",
    "watch_seconds",
    type=click.FloatRange(watching.MIN_SECONDS, watching.MAX_SECONDS),
    is_flag=False,
    flag_value=watching.DEFAULT_SECONDS,
    default=None,
    metavar="[SECONDS]",
    help="Live only: diagnose again every SECONDS (default 10) and print only what changed,"
    " until no cause remains (exit 0).",
)
@click.option(
    "--capture",
    "capture_to",
    type=click.Path(path_type=Path),
    default=None,
    metavar="OUT",
    help="Live only: also write the evidence this diagnosis was made from to OUT, as `capture`"
    " does (one gathering for both).",
)
@click.option(
    "--apply",
    "apply_fix",
    is_flag=True,
    help="Live only: create the top cause's NetworkPolicy fix after a server-side dry run and"
    " your yes, verify it, and remove it again if the cause remains.",
)
@click.option("--yes", is_flag=True, help="With --apply: do not ask (scripts, no terminal).")
def diagnose(
    bundle: Path | None,
    request: incident_options.LiveRequest,
    shown: Shown,
    watch_seconds: float | None,
    capture_to: Path | None,
    apply_fix: bool,
    yes: bool,
) -> int:
    """Diagnose why SRC cannot reach DST, from BUNDLE or (without it) the live cluster.

    BUNDLE is a directory, a .tar.gz, or a single `kubectl get -o yaml|json` file.
    Exit status: 0 no cause found, 1 a cause found, 2 usage or input error, 3 internal error;
    with --apply (docs/LIVE.md): 0 fixed and verified (or nothing to fix), 1 not verified and
    removed again, 2 not applied, 4 not verified and not removed.
    """
    if yes and not apply_fix:
        raise errors.InputError("--yes goes with --apply")
    if bundle is not None:
        from paramedic.evidence import bundle as bundle_loader

        live_only = request.live_only() + (["--watch"] if watch_seconds is not None else [])
        live_only += ["--capture"] if capture_to is not None else []
        live_only += ["--apply"] if apply_fix else []
        if live_only:
            raise errors.InputError(f"{live_only[0]} works only live (drop BUNDLE or the flag)")
        evidence = bundle_loader.load(bundle, select=_reads(request))
        # The load is bounded by the bundle's size and parse budgets (docs/BUNDLE.md); --timeout
        # bounds the diagnosis of what it loaded.
        budget = (request.timeout, time.monotonic())
        return _run(evidence, incident_options.incident_of(evidence, request), shown, budget)
    if watch_seconds is not None:
        if capture_to is not None:
            raise errors.InputError("--capture writes one gathering: drop --watch or --capture")
        if apply_fix:
            raise errors.InputError("--apply verifies once by itself: drop --watch or --apply")
        return watching.run(
            lambda: _live_diagnosis(request),
            lambda result: _render(result, shown.output, brief=shown.brief),
            every=watch_seconds,
        )
    budget = (request.timeout, time.monotonic())
    if capture_to is None:
        evidence = _gather_live(request)
    else:
        evidence, wrote = _gather_into(request, capture_to)
        click.echo(f"paramedic: {wrote}", err=True)
    incident = evidence.incident or incident_options.incident_of(None, request)
    if not apply_fix:
        return _run(evidence, incident, shown, budget)
    from paramedic.cli import apply

    result = _diagnosis(evidence, incident, budget)
    click.echo(_render(result, shown.output, brief=shown.brief), nl=False)
    return apply.run(request, result, yes=yes, diagnose_again=lambda: _live_diagnosis(request))


def _reads(request: incident_options.LiveRequest) -> selection.Selection | None:
    """What the diagnosis reads of a big dump (the rest is not parsed), when the request alone
    says which incident it is; None reads everything."""
    from paramedic.runbooks import engine
    from paramedic.runbooks import model as runbook_model

    try:
        incident = incident_options.incident_of(None, request)
        return engine.reads(runbook_model.builtin(incident.runbook), incident)
    except errors.InputError:
        return None  # the same error comes again, after the load, where it always came


def _live_diagnosis(request: incident_options.LiveRequest) -> diagnosis.Diagnosis:
    budget = (request.timeout, time.monotonic())
    evidence = _gather_live(request)
    return _diagnosis(
        evidence, evidence.incident or incident_options.incident_of(None, request), budget
    )


def _gather_live(request: incident_options.LiveRequest) -> model.Evidence:
    """Evidence from the live cluster; an unusable kubeconfig is bad input (exit 2), not a bug."""
    incident = incident_options.incident_of(None, request)
    if request.probe_image and not request.probe_pod:
        raise errors.InputError("--probe-image needs --probe-pod")
    if request.cloud == "aws":
        from paramedic.gather import cloud_aws

        cloud_aws.require()
    limits = timeouts.DEFAULT.scaled_to(request.timeout)
    if request.since is not None:
        limits = dataclasses.replace(limits, log_since=request.since)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        cloud = pool.submit(_gather_cloud, request.cloud, limits) if request.cloud else None
        evidence = _gather_kube(request, incident, limits)
        if cloud is not None:
            evidence = evidence.with_cloud(*cloud.result())
    return evidence


def _gather_cloud(
    provider: str | None, limits: timeouts.Timeouts
) -> tuple[list[model.CloudDocument], list[str]]:
    """The cloud's rules (--cloud), read while the cluster is (both within --timeout)."""
    from paramedic.gather import cloud_aws

    return cloud_aws.gather(limits) if provider == "aws" else ([], [])


def _gather_kube(
    request: incident_options.LiveRequest, incident: model.Incident, limits: timeouts.Timeouts
) -> model.Evidence:
    from paramedic.gather import live
    from paramedic.runbooks import engine
    from paramedic.runbooks import model as runbook_model

    try:
        evidence = live.gather(
            incident,
            kubeconfig=request.kubeconfig,
            context=request.context,
            limits=limits,
            probe_pod=request.probe_pod,
            probe_image=request.probe_image,
            db_probe=False,  # needs kube + probes: runs below, one layer up
            progress=sys.stderr.isatty(),  # the bar goes to stderr: fine with -o json > file
            wanted=engine.needs(runbook_model.builtin(incident.runbook)),
        )
        if request.db_probe:
            from paramedic.gather import db_probe as database

            evidence = database.run(
                evidence,
                evidence.incident or incident,
                kubeconfig=request.kubeconfig,
                context=request.context,
                limits=limits,
            )
        return evidence
    except errors.KubeAccessError as exc:
        raise errors.InputError(str(exc)) from exc


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@incident_options.request_options
def capture(out: Path, request: incident_options.LiveRequest) -> None:
    """Write an evidence bundle for SRC -> DST from the live cluster to OUT (dir or .tar.gz).

    Secret values are replaced by digests (key names, lengths and a keyed digest stay), and so
    are env and ConfigMap values named like credentials; other text loses the credentials it holds.
    """
    from paramedic.evidence import redact

    evidence, wrote = _gather_into(request, out)
    for gap in evidence.gaps:
        common.say(f"paramedic: gap: {redact.text(str(gap))}", err=True)
    click.echo(wrote)


def _gather_into(request: incident_options.LiveRequest, out: Path) -> tuple[model.Evidence, str]:
    """Gather live and write the evidence as a bundle to `out`: the evidence, and what was
    written in one line. A taken `out` is exit 2 before the cluster is read, not after a
    gathering it would waste."""
    from paramedic.evidence import writer

    writer.refuse_existing(out)
    evidence = _gather_live(request)
    written = writer.write(evidence, out)
    return evidence, (
        f"wrote {written} ({len(evidence.objects)} objects, {len(evidence.logs)} logs,"
        f" {len(evidence.gaps)} gaps)"
    )
