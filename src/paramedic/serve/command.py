"""The `paramedic serve` command: options, start-up checks, and uvicorn.

`serve` and `cli` are sibling entry points that never import each other: this command joins
the `paramedic` group through the `paramedic.commands` entry point (pyproject.toml), which
cli.main loads; cli.main still turns its errors into one line and the exit status.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import click

from paramedic import errors, timeouts

DEFAULT_STORE = "sqlite:///paramedic-serve.db"
TOKEN_ENV = "PARAMEDIC_SERVE_TOKEN"


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise errors.InputError(f"--listen {value!r}: give HOST:PORT (0.0.0.0:8080)")
    return host.strip("[]") or "0.0.0.0", int(port)


def _token(token_file: Path | None) -> str | None:
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise errors.InputError(f"--token-file {token_file}: {exc.strerror}") from exc
        if not token:
            raise errors.InputError(f"--token-file {token_file}: the file is empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


@click.command()
@click.option("--listen", default="127.0.0.1:8080", show_default=True, help="HOST:PORT to serve.")
@click.option(
    "--store",
    "store_url",
    default=DEFAULT_STORE,
    show_default=True,
    help="sqlite:///PATH or postgresql://USER@HOST/DB (password from PGPASSWORD or the URL).",
)
@click.option(
    "--routes",
    "routes_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file mapping alert labels to incidents (docs/SERVE.md).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=timeouts.DEFAULT.total,
    show_default=True,
    help="Time limit of each diagnosis in seconds; nothing waits longer.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Diagnoses running at once.",
)
@click.option(
    "--worker-nice",
    type=click.IntRange(0, 19),
    default=0,
    show_default=True,
    help="Niceness added to the diagnosis workers (the webhook answers first).",
)
@click.option(
    "--queue",
    type=click.IntRange(1, 100000),
    default=256,
    show_default=True,
    help="Diagnoses waiting; beyond it requests get 503 + Retry-After.",
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    help="Kubeconfig file (default: in a pod, the service account).",
)
@click.option("--context", help="Kubeconfig context to use.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Bearer token the POST endpoints require (or ${TOKEN_ENV}).",
)
@click.option("--notify", help="Webhook URL to POST a summary to when a diagnosis completes.")
@click.option(
    "--notify-format",
    type=click.Choice(["slack", "generic"]),
    default="slack",
    show_default=True,
    help='slack: {"text": ...}; generic: the incident as JSON.',
)
@click.option("--public-url", default="", help="Base URL of the pages, for links in notifications.")
def serve(
    listen: str,
    store_url: str,
    routes_file: Path | None,
    timeout: float,
    workers: int,
    worker_nice: int,
    queue: int,
    kubeconfig: str | None,
    context: str | None,
    token_file: Path | None,
    notify: str | None,
    notify_format: str,
    public_url: str,
) -> int:
    """Run the in-cluster service: Alertmanager webhook, incident store, pages, metrics.

    Endpoints and the routes file: docs/SERVE.md. Logs are JSON lines on stderr.
    """
    import uvicorn

    from paramedic.serve import app, logs, routes, settings, store

    if math.isnan(timeout):
        raise errors.InputError("--timeout nan: give a number of seconds")
    host, port = _listen(listen)
    if notify and not notify.startswith(("http://", "https://")):
        raise errors.InputError(f"--notify {notify!r}: give an http:// or https:// URL")
    config = settings.Settings(
        routes=routes.load(routes_file) if routes_file else (),
        timeout=timeout,
        workers=workers,
        worker_nice=worker_nice,
        queue=queue,
        kubeconfig=kubeconfig,
        context=context,
        token=_token(token_file),
        notify=notify,
        notify_format=notify_format,
        public_url=public_url or f"http://{listen}",
        freeze_heap=True,
    )
    logs.setup()
    db = store.Store.open(store_url)
    try:
        server = uvicorn.Server(
            uvicorn.Config(
                app.build(db, config),
                host=host,
                port=port,
                log_config=None,
                http="auto",  # httptools and uvloop (dependencies), h11/asyncio without them
                loop="auto",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
        )
        server.run()
    finally:
        db.close()
    return 0
