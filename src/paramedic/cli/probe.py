"""`paramedic probe tcp|dns|postgres`."""

from __future__ import annotations

import click


@click.group()
def probe() -> None:
    """Measure a live TCP port, DNS name or PostgreSQL server, with a finite timeout."""
