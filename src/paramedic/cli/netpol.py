"""`paramedic netpol check|assert|matrix` (DESIGN.md §3): thin wrappers over paramedic.netpol.

Exit status: check 0 allowed / 1 denied; assert 0 all hold / 1 any fails; matrix 0;
2 on usage or input errors (including a bundle with NetworkPolicies the API server would reject:
those are never evaluated half-way, they are named on one line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from paramedic import errors
from paramedic.cli import common
from paramedic.netpol import model

if TYPE_CHECKING:
    from paramedic.evidence import model as evidence_model

# The bundle loader, the engine and its layers are imported by the commands that use them
# (0.15 s): `paramedic --help` lists this group's commands without evaluating a policy.

FORMATS = ("text", "json")
GRID_LIMIT = 40


def _cni_option(f: common.F) -> common.F:
    return click.option(
        "--cni",
        type=click.Choice(["auto", *model.BY_NAME]),
        default="auto",
        show_default=True,
        help="Whose policies are on the path: auto (read from the evidence), upstream, calico, "
        "or cilium (also: ipBlock never matches pod or node IPs).",
    )(f)


def _protocol_option(f: common.F) -> common.F:
    return click.option(
        "--protocol",
        type=click.Choice(model.PROTOCOLS, case_sensitive=False),
        default="TCP",
        show_default=True,
        metavar="[TCP|UDP|SCTP]",
        help="Transport protocol.",
    )(f)


def _load(path: Path, cni: str) -> tuple[evidence_model.Evidence, model.Semantics, str]:
    """The bundle, the semantics `--cni` stands for and why; InputError on invalid policies."""
    from paramedic.evidence import bundle as bundle_loader
    from paramedic.netpol import cluster, engine, layers

    evidence = bundle_loader.load(path)
    semantics, why = engine.semantics_for(evidence, cni)
    invalid = layers.program(cluster.of(evidence), semantics.cni).invalid
    if invalid:
        more = f" (and {len(invalid) - 1} more invalid policies)" if len(invalid) > 1 else ""
        raise errors.InputError(f"{invalid[0].describe()}{more}")
    return evidence, semantics, why


@click.group()
def netpol() -> None:
    """Check, assert and map NetworkPolicy connectivity in a bundle."""


@netpol.command("check")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--from", "source", required=True, help="NS/NAME (a pod, else a Service) or an IP address."
)
@click.option(
    "--to",
    "target",
    required=True,
    help="NS/NAME (a pod, else a Service: port -> targetPort) or an IP.",
)
@click.option(
    "--port", required=True, help="Port number or name (a Service port when --to is a Service)."
)
@_protocol_option
@_cni_option
@common.output_option(FORMATS)
def check(
    bundle: Path, source: str, target: str, port: str, protocol: str, cni: str, output: str
) -> int:
    """Whether --from may open a connection to --to on --port, and exactly why.

    Exit status: 0 allowed, 1 denied, 2 usage or input error.
    """
    from paramedic.kube import services
    from paramedic.netpol import expectations

    evidence, semantics, why = _load(bundle, cni)
    found = expectations.flows(
        evidence, source, target, services.port_number(port), protocol.upper(), semantics
    )
    allowed = all(r.allowed for *_, r in found)
    if output == "json":
        shown = next((r for *_, r in found if not r.allowed), found[0][2])
        doc: dict[str, Any] = {
            "allowed": allowed,
            "from": source,
            "to": target,
            "port": services.port_number(port),
            "protocol": protocol.upper(),
            "semantics": semantics.describe(),
            "cni": why,
            "egress": shown.egress.as_dict(),
            "ingress": shown.ingress.as_dict(),
            "layers": [dict(e) for e in shown.layers],
            "unmodelled": [u.as_dict() for u in shown.unmodelled],
            "invalid_policies": list(shown.invalid),
            "flows": [{**r.as_dict(), "via": d.via} for _, d, r in found],
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        for _, d, r in found:
            common.say(
                f"{'ALLOWED' if r.allowed else 'DENIED '} {r.src} -> {r.dst} {r.protocol}/{r.port}"
            )
            if d.via:
                common.say(f"  via      {d.via}")
            common.say(f"  egress   {r.egress.reason}")
            common.say(f"  ingress  {r.ingress.reason}")
            for side in r.blocking or (r.egress, r.ingress):
                if side.decided_by is not None:
                    verb = "denied" if not side.allowed else "allowed"
                    common.say(
                        f"  decided  {verb} in layer {side.decided_by.layer} by "
                        f"{side.decided_by.describe()}"
                    )
                    break
        unmodelled = {u.ref: u for *_, r in found for u in r.unmodelled}
        for u in unmodelled.values():
            common.say(f"  NOT EVALUATED {u.ref}: {u.why} (see: {u.command})")
        common.say(f"  cni      {why}")
    return 0 if allowed else 1


@netpol.command("assert")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.argument("expectations_file", metavar="EXPECTATIONS.yaml", type=click.Path(path_type=Path))
@_cni_option
@common.output_option(FORMATS)
def assert_(bundle: Path, expectations_file: Path, cni: str, output: str) -> int:
    """Check a list of expected flows (allowed: true|false) against BUNDLE, for CI.

    Exit status: 0 every expectation holds, 1 any fails, 2 usage or input error.
    """
    evidence, semantics, _ = _load(bundle, cni)
    from paramedic.evidence import documents, named_file
    from paramedic.netpol import expectations

    data = named_file.read(expectations_file, limit=named_file.EXPECTATIONS, what="")
    docs = [d for d in documents.decode(data, where=str(expectations_file)) if d is not None]
    if len(docs) > 1:
        raise errors.InputError(f"{expectations_file}: expected one YAML document")
    doc = docs[0] if docs else None
    items = expectations.parse(doc, where=str(expectations_file))
    results = expectations.evaluate(evidence, items, semantics)
    if output == "json":
        click.echo(json.dumps({"results": results}, indent=2, default=str))
    else:
        for r in results:
            mark = "ok  " if r["ok"] else "FAIL"
            want = "allowed" if r["expected"] else "denied"
            common.say(
                f"{mark} {r['from']} -> {r['to']} {r['protocol']}/{r['port']} expected {want}"
            )
            if not r["ok"]:
                for line in r["explanation"]:
                    common.say(f"       {line}")
        failed = sum(1 for r in results if not r["ok"])
        common.say(f"{len(results) - failed} of {len(results)} expectations hold")
    return 0 if all(r["ok"] for r in results) else 1


@netpol.command("matrix")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--port", required=True, type=click.IntRange(1, 65535), help="Port number.")
@_protocol_option
@_cni_option
@common.output_option(FORMATS)
def matrix(bundle: Path, port: int, protocol: str, cni: str, output: str) -> None:
    """Which pod may open a connection to which pod on --port (all pairs)."""
    from paramedic.netpol import matrix as matrix_module

    evidence, semantics, _ = _load(bundle, cni)
    result = matrix_module.matrix(evidence, port, protocol.upper(), semantics)
    if output == "json":  # streamed row by row: 10,000 pods are 100 million cells
        n = len(result.pods)
        click.echo(f'{{"pods": {json.dumps(list(result.pods))}, "allowed": [', nl=False)
        for i, row in enumerate(result.rows):
            cells = ",".join(format(row, f"0{n}b")[::-1]) if n else ""
            click.echo(f"{',' if i else ''}[{cells}]", nl=False)
        click.echo("]}")
        return
    n = len(result.pods)
    common.say(
        f"{result.allowed_count()} of {n * n} pod pairs may connect on {protocol.upper()}/{port}"
    )
    if n <= GRID_LIMIT:
        common.say("row i = source pod i, column j = destination pod j; x = may connect")
        for i, ref in enumerate(result.pods):
            grid = "".join("x" if result.allowed(i, j) else "." for j in range(n))
            common.say(f"{i:>3} {grid}  {ref}")
        return
    for i, ref in enumerate(result.pods):
        common.say(f"{result.rows[i].bit_count():>6} destinations  {ref}")
