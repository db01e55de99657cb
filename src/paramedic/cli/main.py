"""`paramedic` entry point: the command group, error handling and exit codes.

Exit codes: `diagnose`/`demo` 0 = no cause found, 1 = at least one cause, 2 = usage or input
error, 3 = internal error (a bug: reported as one line, never a traceback). Commands return
their exit status (None counts as 0); `main` is the one place that exits.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import sys
import threading
import warnings
from typing import TYPE_CHECKING, Any, NoReturn

import click

from paramedic import __version__, errors
from paramedic.cli import common

if TYPE_CHECKING:
    from importlib import metadata


COMMANDS = {
    "demo": "paramedic.cli.diagnose",
    "diagnose": "paramedic.cli.diagnose",
    "capture": "paramedic.cli.diagnose",
    "netpol": "paramedic.cli.netpol",
    "probe": "paramedic.cli.probe",
    "completion": "paramedic.cli.completion",
    "cloud": "paramedic.cli.cloud",
    "rbac": "paramedic.cli.rbac",
}
"""Command name -> the module defining it (a click command of that name). A command's module is
imported only when that command runs (or `--help` lists them all): `paramedic diagnose` never
imports the network policy engine behind `netpol`, nor `serve`'s web stack."""


@functools.cache
def _plugins() -> dict[str, metadata.EntryPoint]:
    """Commands of other entry-point packages (`serve`: an entry point beside cli,
    docs/ARCHITECTURE.md), by entry-point name = command name; loaded only when run."""
    from importlib import metadata  # lazy: ~0.1 s, and most runs name a built-in command

    return {entry.name: entry for entry in metadata.entry_points(group="paramedic.commands")}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *_plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
        elif cmd_name in _plugins():
            command = _plugins()[cmd_name].load()
        else:
            return None
        assert isinstance(command, click.Command) and command.name == cmd_name, cmd_name
        return command


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="paramedic")
def cli() -> None:
    """Executable incident runbooks for Kubernetes.

    Diagnoses why a service cannot reach its database: checks every known cause from
    evidence (a live cluster, a captured bundle, or a bundled demo), shows the evidence,
    the exact fix for this cluster, why it works, and how to verify it.
    """


def interrupted() -> NoReturn:
    """Ctrl-C: one line and exit 130 now. Whatever was being written has been removed on the
    way up (writers clean up on any exception); worker threads still waiting on the network are
    not waited for, so the process ends at once instead of after their timeouts."""
    with contextlib.suppress(OSError, ValueError):
        click.echo("paramedic: error: interrupted", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(130)


def _quiet_libraries() -> None:
    """Libraries never write to stderr: their warnings (urllib3's InsecureRequestWarning, once per
    request) are dropped and ours shown once as one line; their log records (the Kubernetes
    client's `ERROR:root:` for a failing exec plugin) go nowhere, since the failure reaches the
    user as our own one-line error or gap."""
    shown: set[str] = set()

    def show(message: Any, category: type[Warning], *_: Any, **__: Any) -> None:
        if issubclass(category, errors.ParamedicWarning) and str(message) not in shown:
            from paramedic.reports import safe  # a warning may quote the cluster

            shown.add(str(message))
            click.echo(f"paramedic: warning: {safe.line(str(message))}", err=True)

    warnings.showwarning = show
    root = logging.getLogger()
    if not root.handlers:  # module-level logging.error() would otherwise add a stderr handler
        root.addHandler(logging.NullHandler())


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI; every failure becomes one line on stderr and a documented exit status.

    Run as a program (`argv` None), the process ends as soon as the output is written: a request
    abandoned at the --timeout deadline may still sit in a worker thread, and the interpreter
    would wait for it at exit (a drip-fed answer kept a run alive for a minute). In-process
    callers (tests) get the SystemExit as before."""
    _quiet_libraries()
    try:
        _run(argv)
    except SystemExit as exc:
        if argv is None:
            _leave(exc.code)
        raise


def _run(argv: list[str] | None) -> NoReturn:
    try:
        code: Any = cli.main(args=argv, prog_name="paramedic", standalone_mode=False)
    except click.exceptions.Abort:  # click's form of KeyboardInterrupt (Ctrl-C)
        interrupted()
    except click.ClickException as exc:
        common.fail(exc.format_message().strip().splitlines()[0], code=exc.exit_code)
    except errors.ParamedicError as exc:
        common.fail(str(exc), code=2 if isinstance(exc, errors.InputError) else 3)
    except KeyboardInterrupt:
        interrupted()
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        common.fail(f"internal error, please report: {type(exc).__name__}: {exc}", code=3)
    sys.exit(code if isinstance(code, int) else 0)


def _leave(code: Any) -> None:
    """Exit now, without waiting for abandoned worker threads, once stdout/stderr are flushed."""
    if not any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        return
    status = code if isinstance(code, int) else (0 if code is None else 1)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass
    os._exit(status)
