"""`-o html`: a self-contained HTML page of the diagnosis (for tickets, and later `serve`).

Rendered with a Jinja2 template with autoescaping on: evidence text comes from the cluster and
logs, so it is always escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2

from paramedic.checks import model
from paramedic.runbooks import diagnosis

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("paramedic.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(result: diagnosis.Diagnosis, *, links: Sequence[tuple[str, str]] = ()) -> str:
    """The page; `links` are (text, href) pairs shown above the report (`serve` links the
    incident list, the bundle and the alert's source)."""
    template = _ENV.get_template("diagnosis.html.j2")
    return template.render(
        d=result,
        links=links,
        causes=result.causes,
        others=[f for f in result.findings if f.verdict is not model.Verdict.CAUSE],
        upcoming=result.upcoming,
    )
