"""`-o html`: a self-contained HTML page of the diagnosis (for tickets, and `serve`).

Rendered from `outline` (the order every format shares) with a Jinja2 template with autoescaping
on: evidence text comes from the cluster and logs, so it is always escaped. The page carries a
viewport, a dark scheme (`prefers-color-scheme`), a print stylesheet (code wraps on paper instead
of being clipped) and colours with at least WCAG AA contrast in both schemes.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2

from paramedic.reports import outline
from paramedic.runbooks import diagnosis

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("paramedic.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATE = "diagnosis.html.j2"
MARKS = {"cause": "CAUSE", "inconclusive": "INCONCLUSIVE", "next": "NEXT — not a cause"}


def prepare() -> None:
    """Compile the template now rather than on the first render (about 0.1 s of CPU): `serve`
    does it where its diagnosis worker processes are forked from, so none compiles it again."""
    _ENV.get_template(TEMPLATE)


def render(result: diagnosis.Diagnosis, *, links: Sequence[tuple[str, str]] = ()) -> str:
    """The page; `links` are (text, href) pairs shown above the report (`serve` links the
    incident list, the bundle and the alert's source)."""
    template = _ENV.get_template(TEMPLATE)
    return template.render(
        o=outline.build(result), marks=MARKS, runbook=result.runbook, links=links
    )
