"""The one place where paramedic's time limits are defined.

Every network operation takes its limit from a `Timeouts` value; none is ever unbounded.
The defaults are what an on-call engineer can wait for without losing the thread.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """Finite limits, in seconds."""

    total: float = 20.0
    """Overall deadline for one `diagnose` / `capture` run (``--timeout``)."""
    request: float = 5.0
    """One Kubernetes API request."""
    tcp: float = 3.0
    """One TCP connect."""
    dns: float = 2.0
    """One DNS query (all retries included)."""
    postgres: float = 3.0
    """One PostgreSQL connect + queries (psycopg clamps connect_timeout to >= 2 s)."""
    log_since: float = 3600.0
    """How far back container logs are read (the API's sinceSeconds; ``--since``)."""
    log_bytes: int = 2 * 1024 * 1024
    """Most log bytes read per container (the API's limitBytes; a bound on size, not time):
    the same as a bundle keeps of one log."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not value or value <= 0:
                raise ValueError(f"timeout {field.name} must be a positive number, got {value!r}")

    def scaled_to(self, total: float) -> Timeouts:
        """The same limits, none longer than the overall deadline `total`."""
        return dataclasses.replace(
            self,
            total=total,
            request=min(self.request, total),
            tcp=min(self.tcp, total),
            dns=min(self.dns, total),
            postgres=max(min(self.postgres, total), 2.0),
        )


def duration_text(seconds: float) -> str:
    """'1h', '10m', '90s', '1h30m': a duration as kubectl's flags write it."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


DEFAULT = Timeouts()
