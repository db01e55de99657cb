"""`paramedic cloud check`: may one address reach another through the cloud's rules, and which
rule decides? The cloud files are this command's whole input, so a broken one is an error (exit
2) naming it, where `diagnose` would note it as a gap and go on."""

from __future__ import annotations

import json
from pathlib import Path

import click

from paramedic import errors
from paramedic.cli import common


@click.group()
def cloud() -> None:
    """Cloud network rules (AWS security groups and network ACLs, GCP firewall, Azure NSGs)."""


@cloud.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--from", "source", required=True, help="Source IP address (a node, a NAT gateway).")
@click.option("--to", "target", required=True, help="Destination IP address or RDS endpoint name.")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Destination port.")
@click.option(
    "--protocol",
    default="tcp",
    show_default=True,
    help="tcp, udp, or an IP protocol number (4 for IP-in-IP).",
)
@common.output_option(("text", "json"))
def check(
    bundle: Path, source: str, target: str, port: int | None, protocol: str, output: str
) -> int:
    """May SOURCE reach TARGET:PORT by the rules in BUNDLE's cloud/<provider>/*.json?

    Exit status: 0 allowed, 1 denied or undecided, 2 bad input.
    """
    from paramedic.cloud import model, path
    from paramedic.evidence import bundle as bundle_loader

    number = model.protocol_number(protocol)
    if number is None:
        raise errors.InputError(f"--protocol {protocol!r}: use tcp, udp or a protocol number")
    if model.address(source) is None:
        raise errors.InputError(f"--from {source!r}: not an IP address")
    evidence = bundle_loader.load(bundle, strict_cloud=True)
    if not evidence.cloud:
        raise errors.InputError(f"{bundle}: no cloud/<provider>/*.json files")
    dst, name = (target, "") if model.address(target) else (target, target)
    flow = model.Flow(src=source, dst=dst, port=port, protocol=number, dst_name=name)
    answer = path.evaluate(evidence.cloud, flow)
    assert answer is not None  # there are cloud documents
    if output == "json":
        click.echo(json.dumps(answer.as_dict(), indent=2))
    else:
        common.say(f"{answer.provider}: {flow}: {answer.decision}")
        for step in answer.steps:
            common.say(f"  {step.line()}" + (f"  [{step.source}]" if step.source else ""))
    return 0 if answer.decision is model.Decision.ALLOW else 1
