"""Shared CLI plumbing: printing, the one-line error, output format options."""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, *, code: int = 2) -> NoReturn:
    """One line on stderr, with any credential it quotes masked and any control character
    shown as an escape (an error may quote the API server, an admission webhook, a plugin),
    then exit."""
    from paramedic.evidence import redact
    from paramedic.reports import safe

    first = message.strip().splitlines()[0] if message.strip() else "error"
    try:
        first = safe.line(redact.text(first))
    except MemoryError:  # the error being reported may be this very exhaustion
        first = "out of memory"
    click.echo(f"paramedic: error: {first}", err=True)
    sys.exit(code)


def say(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """`click.echo` for text that quotes evidence (names, reasons, gap lines): every control
    character shown as an escape (reports.safe), so a name in a bundle or an API server's
    message cannot drive the terminal. JSON output needs none of this (json.dumps escapes)."""
    from paramedic.reports import safe

    click.echo(safe.visible(text), err=err, nl=nl)


def is_terminal() -> bool:
    return sys.stdout.isatty() and os.environ.get("NO_COLOR") is None


def width() -> int:
    """Terminal width on a terminal (at least 60), else COLUMNS, else 80."""
    if sys.stdout.isatty():
        return max(60, shutil.get_terminal_size((80, 24)).columns)
    try:
        return max(40, int(os.environ.get("COLUMNS", "80")))
    except ValueError:
        return 80


def output_option(choices: tuple[str, ...]) -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help="Output format.",
    )


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(text: str) -> float | None:
    """Seconds in `text`: plain seconds ("5", "2.5") or a duration as kubectl takes it ("5s",
    "2m", "1m30s", "500ms"); None when it is neither."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = list(_DURATION.finditer(text))
    if not parts or "".join(m.group(0) for m in parts) != text:
        return None
    return sum(float(m.group(1)) * _UNIT[m.group(2)] for m in parts)


class _Seconds(click.FloatRange):
    """A time limit: seconds or a duration (5s, 2m, 1m30s), within the range; NaN is refused
    (it passes every range comparison)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            parsed = seconds(value)
            if parsed is None:
                self.fail(f"{value!r} is not a duration (5s, 2m, 1m30s) or seconds.", param, ctx)
            value = parsed
        result = super().convert(value, param, ctx)
        if math.isnan(result):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return result


class _Duration(click.ParamType):
    """A duration as kubectl takes it: '90s', '10m', '1h', '1h30m', or plain seconds."""

    name = "duration"
    _UNITS: ClassVar[dict[str, float]] = {"h": 3600.0, "m": 60.0, "s": 1.0}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        text = str(value).strip().lower()
        seconds, number = 0.0, ""
        try:
            for char in text:
                if char.isdigit() or char == ".":
                    number += char
                elif char in self._UNITS and number:
                    seconds += float(number) * self._UNITS[char]
                    number = ""
                else:
                    raise ValueError(char)
            seconds += float(number) if number else 0.0
        except ValueError:
            self.fail(f"{value!r} is not a duration (e.g. 90s, 10m, 1h).", param, ctx)
        if not 1 <= seconds <= 30 * 24 * 3600 or not text:
            self.fail(f"{value!r}: give a duration from 1s to 720h.", param, ctx)
        return seconds


def since_option() -> Callable[[F], F]:
    return click.option(
        "--since",
        type=_Duration(),
        default=None,
        help="Live only: read container logs this far back (the API's sinceSeconds;"
        " default 1h, at most 2 MiB per container).",
    )


def timeout_option(default: float) -> Callable[[F], F]:
    return click.option(
        "--timeout",
        type=_Seconds(min=0.1, max=600),
        default=default,
        show_default=True,
        metavar="DURATION",
        help="Overall time limit: seconds or a duration (5s, 2m, 1m30s); nothing waits longer.",
    )
