"""Run a blocking call that cannot be interrupted (getaddrinfo, libpq connect) under a deadline.

`socket.getaddrinfo` has no timeout and psycopg clamps its connect timeout to at least 2 s, so
the only way to honour a shorter limit is to wait for the call in another thread and walk away
when the time is up. The call runs in a daemon thread (so an abandoned call never holds up
interpreter exit); if it finishes after we left, `on_late` receives its value so that resources
it created (a database connection) are released.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Outcome(Generic[T]):
    """What a bounded call produced: a value, an exception, or nothing in time."""

    finished: bool
    value: T | None = None
    error: BaseException | None = None


def call(
    fn: Callable[[], T],
    *,
    seconds: float,
    on_late: Callable[[T], None] | None = None,
    name: str = "paramedic-probe",
) -> Outcome[T]:
    """Run `fn()` and wait at most `seconds` for it; never raises what `fn` raises."""
    lock = threading.Lock()
    done = threading.Event()
    box: dict[str, object] = {}
    abandoned = False

    def work() -> None:
        try:
            value = fn()
        except BaseException as exc:  # handed back to the caller as a value
            with lock:
                box["error"] = exc
                done.set()
            return
        with lock:
            box["value"] = value
            done.set()
            late = abandoned
        if late and on_late is not None:
            with contextlib.suppress(Exception):  # best-effort cleanup of an abandoned call
                on_late(value)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    done.wait(max(0.0, seconds))
    with lock:
        if not done.is_set():
            abandoned = True
            return Outcome(finished=False)
        if "error" in box:
            return Outcome(finished=True, error=box["error"])  # type: ignore[arg-type]
        return Outcome(finished=True, value=box["value"])  # type: ignore[arg-type]
