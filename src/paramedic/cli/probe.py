"""`paramedic probe tcp|dns|postgres`: one live measurement, printed, optionally recorded.

Exit status (DESIGN.md §3): 0 for open/resolved/ok, 1 for any other outcome, 2 on usage errors.
`-o json` prints the ProbeResult as it is recorded in probes.json (`paramedic.probes/v1`).
No output ever holds a password: the postgres target is rebuilt without it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from paramedic import errors, timeouts
from paramedic.cli import common
from paramedic.evidence import named_file, probes_file

FORMATS = ("text", "json")

_record_option = click.option(
    "--record",
    "record",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PATH",
    help="Also add the result to a bundle's probes.json (PATH: a bundle directory or the file).",
)


@click.group()
def probe() -> None:
    """Measure a live TCP port, DNS name or PostgreSQL server, with a finite timeout."""


@probe.command("tcp")
@click.argument("address", metavar="HOST:PORT")
@common.timeout_option(timeouts.DEFAULT.tcp)
@common.output_option(FORMATS)
@_record_option
def tcp(address: str, timeout: float, output: str, record: Path | None) -> int:
    """Open a TCP connection: open, refused, timeout, unreachable, reset or dns-error."""
    from paramedic.probes import common as probe_common
    from paramedic.probes import tcp as tcp_probe

    try:
        host, port = probe_common.split_host_port(address)
    except ValueError as exc:
        raise errors.InputError(str(exc)) from exc
    return _finish(tcp_probe.probe(host, port, timeout=timeout), output, record)


@probe.command("dns")
@click.argument("name")
@click.option(
    "--server",
    metavar="IP[:PORT]",
    default=None,
    help="Ask this server (default: the first nameserver in /etc/resolv.conf).",
)
@click.option(
    "--search",
    "search",
    multiple=True,
    metavar="DOMAIN",
    help="Search domain, as in a pod's resolv.conf (repeatable; tried in order).",
)
@click.option(
    "--ndots",
    type=click.IntRange(0, 15),
    default=5,
    show_default=True,
    help="With --search: names with fewer dots try the search domains first.",
)
@click.option(
    "--resolv-conf",
    "resolv_conf",
    is_flag=True,
    help="Take search domains, ndots and (without --server) the server from "
    "/etc/resolv.conf, as the pod this runs in would.",
)
@common.timeout_option(timeouts.DEFAULT.dns)
@common.output_option(FORMATS)
@_record_option
def dns(
    name: str,
    server: str | None,
    search: tuple[str, ...],
    ndots: int,
    resolv_conf: bool,
    timeout: float,
    output: str,
    record: Path | None,
) -> int:
    """Resolve NAME (A, AAAA): resolved, nxdomain, servfail, refused or timeout."""
    from paramedic.probes import common as probe_common
    from paramedic.probes import dns as dns_probe

    port = 53
    if server:
        try:
            server, port = probe_common.split_host_port(server, default_port=53)
        except ValueError as exc:
            raise errors.InputError(f"--server {exc}") from exc
        if not probe_common.is_ip(server):
            raise errors.InputError(f"--server must be an IP address, got {server!r}")
    if resolv_conf:
        conf = dns_probe.read_resolv_conf()
        search = search or conf.search
        ndots = conf.ndots if ndots == 5 else ndots
        server = server or (conf.nameservers[0] if conf.nameservers else None)
    result = dns_probe.probe(
        name, server=server, port=port, timeout=timeout, search=search, ndots=ndots
    )
    return _finish(result, output, record)


@probe.command("postgres")
@click.argument("dsn")
@click.option(
    "--password-file",
    "password_file",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Read the password from FILE (e.g. a mounted Secret key).",
)
@common.timeout_option(timeouts.DEFAULT.postgres)
@common.output_option(FORMATS)
@_record_option
def postgres(
    dsn: str, password_file: Path | None, timeout: float, output: str, record: Path | None
) -> int:
    """Connect to PostgreSQL (DSN or postgresql:// URI) and report slots and who holds them.

    The password comes from the DSN, PGPASSWORD, --password-file, or libpq's password file
    (PGPASSFILE, ~/.pgpass). It is never printed.
    """
    from paramedic.probes import postgres as postgres_probe

    password = None
    if password_file is not None:
        raw = named_file.read(password_file, limit=named_file.PASSWORD_FILE, what="--password-file")
        try:
            password = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise errors.InputError(
                f"cannot read --password-file {password_file}: not UTF-8 text (byte {exc.start})"
            ) from exc
    return _finish(postgres_probe.probe(dsn, timeout=timeout, password=password), output, record)


def _finish(result: probes_file.ProbeResult, output: str, record: Path | None) -> int:
    if record is not None:
        _record(result, record)
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        from paramedic.cli import probe_text

        common.say(probe_text.render(result), nl=False)  # quotes a server (PostgreSQL, DNS)
    return 0 if result.ok else 1


def _record(result: probes_file.ProbeResult, path: Path) -> None:
    """Add `result` to a bundle's probes.json: read capped, replaced atomically, and only ever
    a regular file (never /dev/full or a FIFO: the temporary file would replace it)."""
    target = path / "probes.json" if path.is_dir() else path
    earlier: tuple[probes_file.ProbeResult, ...] = ()
    if os.path.lexists(target):
        where = f"--record {target}"
        raw = named_file.read(target, limit=named_file.PROBES_JSON, what="--record")
        try:
            document = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise errors.InputError(f"{where}: not a readable probes.json") from exc
        earlier = probes_file.parse(document, where=str(target))
    content = (probes_file.dumps((*earlier, result)) + "\n").encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise errors.InputError(f"--record {target}: cannot write ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise errors.InputError(f"--record {target}: cannot write ({exc.strerror or exc})") from exc
