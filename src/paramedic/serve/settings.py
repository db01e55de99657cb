"""What `paramedic serve` was started with: one frozen value the app and the pool share."""

from __future__ import annotations

import dataclasses

from paramedic.serve import routes

MAX_BODY = 1024 * 1024
"""Largest request body accepted (1 MiB); larger is 413. Alertmanager's payload for a group of
a thousand alerts stays well below it."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    routes: tuple[routes.Route, ...] = ()
    timeout: float = 20.0
    """Each diagnosis (gathering included) ends within this many seconds."""
    workers: int = 2
    """Diagnoses running at once (worker processes)."""
    worker_nice: int = 0
    """Niceness added to the worker processes, so the webhook gets the CPU first."""
    queue: int = 256
    """Diagnoses waiting for a worker; beyond this the API answers 503 with Retry-After."""
    kubeconfig: str | None = None
    context: str | None = None
    token: str | None = None
    """Bearer token the POST endpoints require (None: not required)."""
    notify: str | None = None
    notify_format: str = "slack"
    public_url: str = ""
    """Base URL of the pages as people reach them (links in notifications)."""
    sweep: float = 5.0
    """Seconds between looks for incidents to recover (queued, or cut off by a crash)."""
    max_body: int = MAX_BODY
    freeze_heap: bool = False
    """Leave the heap as it is after start-up out of garbage collection (warmup.py): the
    `serve` command's own process does; an app built inside another program (the tests) not."""

    @property
    def lease(self) -> float:
        """How long a running diagnosis is presumed alive before another worker takes it."""
        return self.timeout + 15.0
