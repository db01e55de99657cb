"""What `diagnose` and `capture` are asked: the incident (--from, --to, --port, -n, or the
bundle's incident.yaml) and how to gather live (--timeout, --since, --kubeconfig, ...), as
click options handed to the command as one `LiveRequest`."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, cast

import click

from paramedic import errors, timeouts
from paramedic.cli import common
from paramedic.evidence import model
from paramedic.kube import names, services


def incident(
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
    _, in_target = names.split_port(target)
    if port_value is not None and in_target is not None and str(port_value) != in_target:
        raise errors.InputError(f"--to {target!r} names port {in_target} but --port says {port}")
    if port_value is None and base and base.target == target:
        port_value = base.port
    source_ns, kind, name = names.split_source(source)  # NS/NAME, KIND/NAME as kubectl takes
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


def request_options(f: common.F) -> common.F:
    """The incident and live options, handed to the command as one `request: LiveRequest`."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        fields = {field.name: kwargs.pop(field.name) for field in dataclasses.fields(LiveRequest)}
        return f(*args, request=LiveRequest(**fields), **kwargs)

    for option in reversed(_REQUEST_OPTIONS):
        command = option(command)
    return cast("common.F", command)


def incident_of(evidence: model.Evidence | None, request: LiveRequest) -> model.Incident:
    if request.selector and request.source:
        raise errors.InputError("give the source once: --from or -l/--selector, not both")
    if request.selector is not None and not names.is_selector(request.selector):
        raise errors.InputError(f"-l {request.selector!r}: not a label selector (app=NAME)")
    source = request.selector or request.source
    return incident(evidence, source, request.target, request.port, request.namespace)
