"""`paramedic completion bash|zsh|fish`: the shell's completion script, as kubectl has it.

Click completes commands, options and choices; the script calls back into paramedic with
`_PARAMEDIC_COMPLETE` set. Install it as kubectl's is installed:
`source <(paramedic completion bash)` (or write it to the shell's completion directory).
"""

from __future__ import annotations

import click
from click import shell_completion

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_PARAMEDIC_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> int:
    """Print the completion script for SHELL (source <(paramedic completion bash))."""
    root = ctx.find_root().command
    cls = shell_completion.get_completion_class(shell)
    assert cls is not None  # every shell in SHELLS is built into click
    click.echo(cls(root, {}, "paramedic", COMPLETE_VAR).source())
    return 0
