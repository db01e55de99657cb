"""`paramedic diagnose --watch [SECONDS]`: see the fix land.

Diagnoses the live cluster, prints the report once, then every SECONDS gathers and diagnoses
again and prints only what changed (`reports.changes`): "network-policy: cause → ruled out".
Stops with exit 0 as soon as no cause remains; Ctrl-C stops it with 130 (cli.main). A round that
cannot reach the cluster is printed as one line and the watch goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import click

from paramedic import errors
from paramedic.cli import common
from paramedic.evidence import clock
from paramedic.reports import changes
from paramedic.runbooks import diagnosis

MIN_SECONDS = 1.0
MAX_SECONDS = 3600.0
DEFAULT_SECONDS = 10.0


def run(
    diagnose: Callable[[], diagnosis.Diagnosis],
    render: Callable[[diagnosis.Diagnosis], str],
    *,
    every: float,
    stop: threading.Event | None = None,
) -> int:
    """Watch until no cause remains (0). `stop` ends the watch early (for tests; 130)."""
    stop = stop or threading.Event()
    current = diagnose()
    click.echo(render(current), nl=False)
    if not current.causes:
        return 0
    click.echo(f"\nwatching every {every:g} s until no cause remains (Ctrl-C stops)")
    while not stop.wait(every):
        try:
            latest = diagnose()
        except errors.InputError as exc:  # the cluster went away for a moment: say so, go on
            common.say(f"[{clock.now()}] could not diagnose: {exc}")
            continue
        for line in changes.lines(current, latest):
            click.echo(f"[{clock.now()}] {line}")
        current = latest
        if not current.causes:
            click.echo(f"[{clock.now()}] {changes.remaining(current)}")
            return 0
    return 130
