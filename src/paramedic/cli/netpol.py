"""`paramedic netpol ...` (the policy engine commands)."""

from __future__ import annotations

import click


@click.group()
def netpol() -> None:
    """Check, assert and map NetworkPolicy connectivity in a bundle."""
