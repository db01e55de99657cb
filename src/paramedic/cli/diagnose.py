"""`paramedic demo`, `paramedic diagnose` and `paramedic capture`."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from paramedic import errors, timeouts
from paramedic.cli import common
from paramedic.cli import watch as watching
from paramedic.evidence import model
from paramedic.kube import resolve, services

if TYPE_CHECKING:
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


def _diagnosis(evidence: model.Evidence, incident: model.Incident) -> diagnosis.Diagnosis:
    from paramedic.runbooks import engine
    from paramedic.runbooks import model as runbook_model

    return engine.run(runbook_model.builtin(incident.runbook), evidence, incident)


def _run(evidence: model.Evidence, incident: model.Incident, shown: Shown) -> int:
    result = _diagnosis(evidence, incident)
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


def _incident(
    evidence: model.Evidence | None,
    source: str | None,
    target: str | None,
    port: str | None,
    namespace: str | None,
) -> model.Incident:
    base = evidence.incident if evidence is not None else None
    source = source or (base.source if base else None)
    target = target or (base.target if base else None)
    if not source or not target:
        raise errors.InputError(
            "say what to diagnose: --from SRC --to DST (or put them in the bundle's incident.yaml)"
        )
    if "://" in target:
        raise errors.InputError(
            f"--to {target!r}: give a host or Service (profile-db.data:5432), not a URL"
        )
    port_value: int | str | None = services.port_number(port) if port is not None else None
    _, in_target = resolve.split_port(target)
    if port_value is not None and in_target is not None and str(port_value) != in_target:
        raise errors.InputError(f"--to {target!r} names port {in_target} but --port says {port}")
    if port_value is None and base and base.target == target:
        port_value = base.port
    source_ns, kind, name = resolve.split_source(source)  # NS/NAME, KIND/NAME as kubectl takes
    source = (
        f"{kind.lower()}/{name}" if kind else name
    )  # the kind is respected: sts/x is no Deployment
    return model.Incident(
        source=source,
        target=target,
        port=port_value,
        namespace=source_ns or namespace or (base.namespace if base else None),
        runbook=base.runbook if base else "db-connectivity",
        title=base.title if base else "",
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LiveRequest:
    """What `diagnose` and `capture` were asked: the incident options and how to gather live."""

    source: str | None
    selector: str | None
    target: str | None
    port: str | None
    namespace: str | None
    timeout: float
    since: float | None
    kubeconfig: str | None
    context: str | None
    probe_pod: bool
    probe_image: str | None
    db_probe: bool
    cloud: str | None

    def live_only(self) -> list[str]:
        """The flags given that only make sense when gathering live."""
        flags = {
            "--kubeconfig": self.kubeconfig,
            "--context": self.context,
            "--probe-pod": self.probe_pod,
            "--probe-image": self.probe_image,
            "--db-probe": self.db_probe,
            "--since": self.since is not None,
            "--cloud": self.cloud,
        }
        return [flag for flag, used in flags.items() if used]


_REQUEST_OPTIONS = (
    click.option(
        "--from",
        "source",
        help="Source: NAME, TYPE/NAME (deploy/, sts/, ds/, po/) or NS/NAME.",
    ),
    click.option(
        "-l",
        "--selector",
        help="Source pods by label selector, as kubectl -l (app=user-service); instead of --from.",
    ),
    click.option(
        "--to",
        "target",
        help="Service: NAME, svc/NAME, NS/NAME, a cluster DNS name, or an outside host; [:PORT].",
    ),
    click.option(
        "--port", help="Port number or name (default: DST's :PORT, else the Service's only port)."
    ),
    click.option(
        "-n",
        "--namespace",
        help="Namespace of the source (default: the context's, or where SRC is).",
    ),
    common.timeout_option(timeouts.DEFAULT.total),
    common.since_option(),
    click.option(
        "--db-probe",
        is_flag=True,
        help="Live only: connect to the database through a port-forward with the Secret's"
        " credentials.",
    ),
    click.option(
        "--probe-image", default=None, help="Image for --probe-pod (air-gapped clusters)."
    ),
    click.option(
        "--probe-pod",
        is_flag=True,
        help="Live only: run tcp/dns probes from a short-lived pod with the source's labels"
        " (creates a pod).",
    ),
    click.option(
        "--kubeconfig",
        type=click.Path(dir_okay=False),
        help="Kubeconfig file (as kubectl --kubeconfig).",
    ),
    click.option("--context", help="Kubeconfig context to use (as kubectl --context)."),
    click.option(
        "--cloud",
        type=click.Choice(["aws"]),
        default=None,
        help="Live only: also read the cloud's network rules (aws: security groups, network"
        " ACLs, interfaces, RDS; read-only, default credential chain; needs paramedic[aws]).",
    ),
)


def _request_options(f: common.F) -> common.F:
    """The incident and live options, handed to the command as one `request: LiveRequest`."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        fields = {field.name: kwargs.pop(field.name) for field in dataclasses.fields(LiveRequest)}
        return f(*args, request=LiveRequest(**fields), **kwargs)

    for option in reversed(_REQUEST_OPTIONS):
        command = option(command)
    return cast("common.F", command)


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
    return _run(evidence, _incident(evidence, None, None, None, None), shown)


def _incident_of(evidence: model.Evidence | None, request: LiveRequest) -> model.Incident:
    if request.selector and request.source:
        raise errors.InputError("give the source once: --from or -l/--selector, not both")
    if request.selector is not None and not resolve.is_selector(request.selector):
        raise errors.InputError(f"-l {request.selector!r}: not a label selector (app=NAME)")
    source = request.selector or request.source
    return _incident(evidence, source, request.target, request.port, request.namespace)


@click.command()
@click.argument("bundle", required=False, type=click.Path(path_type=Path))
@_request_options
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
def diagnose(
    bundle: Path | None, request: LiveRequest, shown: Shown, watch_seconds: float | None
) -> int:
    """Diagnose why SRC cannot reach DST, from BUNDLE or (without it) the live cluster.

    BUNDLE is a directory, a .tar.gz, or a single `kubectl get -o yaml|json` file.
    Exit status: 0 no cause found, 1 a cause found, 2 usage or input error, 3 internal error.
    """
    if bundle is not None:
        from paramedic.evidence import bundle as bundle_loader

        live_only = request.live_only() + (["--watch"] if watch_seconds is not None else [])
        if live_only:
            raise errors.InputError(f"{live_only[0]} works only live (drop BUNDLE or the flag)")
        evidence = bundle_loader.load(bundle)
        return _run(evidence, _incident_of(evidence, request), shown)
    if watch_seconds is not None:
        return watching.run(
            lambda: _live_diagnosis(request),
            lambda result: _render(result, shown.output, brief=shown.brief),
            every=watch_seconds,
        )
    evidence = _gather_live(request)
    return _run(evidence, evidence.incident or _incident_of(None, request), shown)


def _live_diagnosis(request: LiveRequest) -> diagnosis.Diagnosis:
    evidence = _gather_live(request)
    return _diagnosis(evidence, evidence.incident or _incident_of(None, request))


def _gather_live(request: LiveRequest) -> model.Evidence:
    """Evidence from the live cluster; an unusable kubeconfig is bad input (exit 2), not a bug."""
    incident = _incident_of(None, request)
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
    request: LiveRequest, incident: model.Incident, limits: timeouts.Timeouts
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
@_request_options
def capture(out: Path, request: LiveRequest) -> None:
    """Write an evidence bundle for SRC -> DST from the live cluster to OUT (dir or .tar.gz).

    Secret values are replaced by digests (key names, lengths and a keyed digest stay), and so
    are env and ConfigMap values named like credentials; other text loses the credentials it holds.
    """
    from paramedic.evidence import redact, writer

    evidence = _gather_live(request)
    written = writer.write(evidence, out)
    for gap in evidence.gaps:
        click.echo(f"paramedic: gap: {redact.text(str(gap))}", err=True)
    click.echo(
        f"wrote {written} ({len(evidence.objects)} objects, {len(evidence.logs)} logs,"
        f" {len(evidence.gaps)} gaps)"
    )
