"""The HTTP boundary of `paramedic serve`: refusals, the request body, the token, the access log.

Every refusal is a `Refused` — a 4xx/503 with one line (`{"error": "..."}`) — raised before
anything is stored: body too large (413, settings.MAX_BODY), missing or wrong bearer token
(401), queue full (503 with Retry-After; Alertmanager retries). The exception handlers here turn
it, an unknown path or method, and a bug into that one-line JSON answer (a bug is logged, and
is the only 500).
"""

from __future__ import annotations

import hmac
import time

from starlette import requests, responses
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paramedic.serve import logs, worker

RETRY_AFTER = "5"


class Refused(Exception):
    """A request answered with a 4xx/503 and one line; nothing was stored."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def unavailable(exc: Exception) -> Refused:
    """The store failed: 503, Retry-After, the first line of why."""
    return Refused(
        503, f"store unavailable: {str(exc).splitlines()[0]}", {"Retry-After": RETRY_AFTER}
    )


async def body(request: requests.Request, limit: int) -> bytes:
    """The body, at most `limit` bytes; a larger one is read to its end (up to 16 times the
    limit, so the client sees the 413 instead of a broken pipe) and refused."""
    declared = request.headers.get("content-length", "")
    too_big = declared.isdigit() and int(declared) > limit * 16
    chunks, size = [], 0
    if not too_big:
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > limit * 16:
                break
    if too_big or size > limit:
        raise Refused(413, f"body larger than {limit} bytes")
    return b"".join(chunks)


def authorize(request: requests.Request, token: str | None) -> None:
    """Nothing when no token is configured or the request's bearer token is it; else 401."""
    if not token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Refused(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Refused(401, "wrong bearer token", {"WWW-Authenticate": "Bearer"})


def reserve(pool: worker.Pool, count: int, queue: int) -> None:
    """Room in the diagnosis queue for `count` more, or 503 with Retry-After."""
    if count and not pool.reserve(count):
        raise Refused(
            503, f"diagnosis queue full ({queue}); retry later", {"Retry-After": RETRY_AFTER}
        )


async def refused(request: requests.Request, exc: Exception) -> responses.Response:
    assert isinstance(exc, Refused)
    return responses.JSONResponse(
        {"error": exc.message}, status_code=exc.status, headers=exc.headers
    )


async def not_found(request: requests.Request, exc: Exception) -> responses.Response:
    status = int(getattr(exc, "status_code", 404))
    message = "no such endpoint" if status == 404 else "method not allowed"
    return responses.JSONResponse({"error": message}, status_code=status)


async def crashed(request: requests.Request, exc: Exception) -> responses.Response:
    logs.event("internal-error", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
    return responses.JSONResponse({"error": "internal error (logged)"}, status_code=500)


QUIET = frozenset({"/healthz", "/readyz", "/metrics", "/api/v1/alertmanager"})
"""Paths the access log leaves out: the probes and scrapes, and the webhook, whose handler
logs its own line (status, milliseconds and what it stored or why not)."""


class AccessLog:
    """One JSON log line per request (but those of QUIET): method, path, status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.monotonic(), [0]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if scope["path"] not in QUIET:
                logs.event(
                    "http",
                    method=scope["method"],
                    path=scope["path"],
                    status=status[0],
                    ms=round((time.monotonic() - started) * 1000, 1),
                )
