"""Read one HTTP response body within a wall-clock deadline and a byte cap.

urllib3's read timeout bounds each socket read, not the body: an API server (or a proxy) that
sends one byte a second keeps `response.data` reading for ever, and a 1 GB answer is read whole.
`read` takes the body in chunks, re-arms the socket timeout to the time left before every read,
and stops at the deadline or the cap, so an abandoned or oversized answer costs at most the
request's own time limit and `limit` bytes.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

CHUNK = 256 * 1024
MAX_BODY_BYTES = 256 * 1024 * 1024
"""Largest JSON answer kept (a namespace-wide list of 100,000 objects is ~200 MB)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Body:
    data: bytes
    truncated: bool = False
    """The cap was reached: `data` holds the first `limit` bytes."""
    timed_out: bool = False
    """The deadline passed before the body ended: `data` is what had arrived."""


def read(response: Any, *, deadline: float, limit: int) -> Body:
    """The body of a urllib3 response (preload_content=False), never past `deadline`
    (time.monotonic()) nor over `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            response.close()  # a half-read connection must not go back to the pool
            return Body(data=b"".join(parts), timed_out=True)
        _arm(response, left)
        chunk = response.read1(min(CHUNK, limit - size + 1))
        if not chunk:
            response.release_conn()
            return Body(data=b"".join(parts))
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            response.close()
            return Body(data=b"".join(parts)[:limit], truncated=True)


def _arm(response: Any, seconds: float) -> None:
    """Set the socket's timeout to what is left, so no single read outlives the deadline."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.01))
