"""The ASGI app of `paramedic serve`: the endpoints of DESIGN.md §3, nothing else.

Every refusal is a 4xx with one line (`{"error": "..."}`), decided before anything is stored:
body too large (413, settings.MAX_BODY), not JSON / wrong payload version / bad field (400),
no route for any firing alert (422), missing or wrong bearer token (401), queue full (503 with
Retry-After; Alertmanager retries). Store calls run in the thread pool, diagnoses in the
worker pool (worker.py); the webhook answers 202 as soon as the incidents are stored.
"""

from __future__ import annotations

import contextlib
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pydantic
from starlette import applications, requests, responses
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paramedic import errors
from paramedic.serve import alerts, logs, metrics, pages, routes, schema, settings, store, worker

RETRY_AFTER = "5"


class Refused(Exception):
    """A request answered with a 4xx/503 and one line; nothing was stored."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class _IncidentIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)
    source: str = pydantic.Field(alias="from", min_length=1, max_length=512)
    target: str = pydantic.Field(alias="to", min_length=1, max_length=512)
    port: int | str | None = None
    namespace: str | None = pydantic.Field(default=None, max_length=253)


class Service:
    """The handlers, over one store, one worker pool and one metrics registry."""

    def __init__(self, db: store.Store, config: settings.Settings) -> None:
        self.db, self.config = db, config
        self.stats = metrics.Metrics()
        self.pool = worker.Pool(db, config, self.stats)

    # -- helpers ----------------------------------------------------------------------------
    async def _body(self, request: requests.Request) -> bytes:
        """The body, at most `max_body` bytes; a larger one is read to its end (up to 16 times
        the limit, so the client sees the 413 instead of a broken pipe) and refused."""
        limit = self.config.max_body
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

    def _authorize(self, request: requests.Request) -> None:
        if not self.config.token:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise Refused(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), self.config.token.encode()):
            raise Refused(401, "wrong bearer token", {"WWW-Authenticate": "Bearer"})

    def _reserve(self, count: int) -> None:
        if count and not self.pool.reserve(count):
            raise Refused(
                503,
                f"diagnosis queue full ({self.config.queue}); retry later",
                {"Retry-After": RETRY_AFTER},
            )

    # -- POST -------------------------------------------------------------------------------
    async def alertmanager(self, request: requests.Request) -> responses.Response:
        try:
            answer = await self._alertmanager(request)
        except Refused as refused:
            self.stats.webhook.labels(status=str(refused.status)).inc()
            raise
        self.stats.webhook.labels(status=str(answer.status_code)).inc()
        return answer

    async def _alertmanager(self, request: requests.Request) -> responses.Response:
        self._authorize(request)
        try:
            payload = alerts.parse(await self._body(request))
        except errors.InputError as exc:
            raise Refused(400, str(exc)) from exc
        firing = [a for a in payload.alerts if a.status == "firing"]
        resolved = [a for a in payload.alerts if a.status == "resolved"]
        routed = [(a, routes.resolve(self.config.routes, a.labels)) for a in firing]
        unrouted = [a for a, target in routed if target is None]
        if firing and len(unrouted) == len(firing) and not resolved:
            first = unrouted[0]
            name = first.labels.get("alertname", "?")
            raise Refused(
                422,
                f"no route matches alert {name} (fingerprint {first.fingerprint}): see --routes",
            )
        wanted = [(a, t) for a, t in routed if t is not None]
        self._reserve(len(wanted))
        ids, closed = await run_in_threadpool(self._store_alerts, payload, wanted, resolved)
        logs.event(
            "webhook",
            receiver=payload.receiver,
            firing=len(firing),
            resolved=len(resolved),
            incidents=ids,
            closed=closed,
            unrouted=[a.fingerprint for a in unrouted],
        )
        return responses.JSONResponse(
            {"incidents": ids, "closed": closed, "unrouted": [a.fingerprint for a in unrouted]},
            status_code=202,
        )

    def _store_alerts(
        self,
        payload: alerts.Payload,
        wanted: list[tuple[alerts.Alert, routes.Target]],
        resolved: list[alerts.Alert],
    ) -> tuple[list[int], list[int]]:
        ids: list[int] = []
        try:
            for index, (alert, target) in enumerate(wanted):
                try:
                    doc = {**alert.as_dict(), "externalURL": payload.externalURL}
                    incident_id, created = self.db.add(
                        target.as_dict(), alert=doc, fingerprint=alert.fingerprint
                    )
                except Exception:
                    self.pool.release(len(wanted) - index)
                    raise
                if created:
                    self.pool.put(incident_id)
                else:
                    self.pool.release()
                ids.append(incident_id)
            closed = [i for i in (self.db.resolve(a.fingerprint) for a in resolved) if i]
        except Exception as exc:
            raise Refused(
                503, f"store unavailable: {str(exc).splitlines()[0]}", {"Retry-After": RETRY_AFTER}
            ) from exc
        return ids, closed

    async def create(self, request: requests.Request) -> responses.Response:
        self._authorize(request)
        body = await self._body(request)
        try:
            wanted = _IncidentIn.model_validate_json(body)
        except pydantic.ValidationError as exc:
            raise Refused(400, f"field {routes.first_problem(exc)}") from exc
        port = wanted.port
        if isinstance(port, int) and not 0 < port < 65536:
            raise Refused(400, "field port: must be 1-65535 or a port name")
        self._reserve(1)
        incident = {
            "from": wanted.source,
            "to": wanted.target,
            "port": port,
            "namespace": wanted.namespace,
        }
        try:
            incident_id, _ = await run_in_threadpool(self.db.add, incident)
        except Exception as exc:
            self.pool.release()
            raise Refused(
                503, f"store unavailable: {str(exc).splitlines()[0]}", {"Retry-After": RETRY_AFTER}
            ) from exc
        self.pool.put(incident_id)
        logs.event("incident-requested", id=incident_id)
        return responses.JSONResponse({"id": incident_id}, status_code=202)

    # -- GET --------------------------------------------------------------------------------
    async def incidents(self, request: requests.Request) -> responses.Response:
        state = request.query_params.get("state")
        if state is not None and state not in schema.STATES:
            raise Refused(400, f"state {state!r}: one of {', '.join(schema.STATES)}")
        found = await run_in_threadpool(lambda: self.db.list(state=state))
        return responses.JSONResponse(
            {"incidents": [r.as_api(with_diagnosis=False) for r in found]}
        )

    async def _record(self, request: requests.Request) -> store.Record:
        incident_id = int(request.path_params["id"])
        record = await run_in_threadpool(self.db.get, incident_id)
        if record is None:
            raise Refused(404, f"no incident {incident_id}")
        return record

    async def incident(self, request: requests.Request) -> responses.Response:
        return responses.JSONResponse((await self._record(request)).as_api())

    async def index(self, request: requests.Request) -> responses.Response:
        found = await run_in_threadpool(self.db.list)
        return responses.HTMLResponse(pages.listing(found))

    async def page(self, request: requests.Request) -> responses.Response:
        record = await self._record(request)
        return responses.HTMLResponse(record.report or pages.pending(record))

    async def bundle(self, request: requests.Request) -> responses.Response:
        record = await self._record(request)
        data = await run_in_threadpool(self.db.bundle, record.id)
        if data is None:
            raise Refused(404, f"incident {record.id} has no bundle yet ({record.phase})")
        return responses.Response(
            data,
            media_type="application/gzip",
            headers={"Content-Disposition": f'attachment; filename="incident-{record.id}.tar.gz"'},
        )

    async def healthz(self, request: requests.Request) -> responses.Response:
        return responses.PlainTextResponse("ok\n")

    async def readyz(self, request: requests.Request) -> responses.Response:
        problem = await run_in_threadpool(self.db.ping)
        if problem:
            return responses.PlainTextResponse(f"store unreachable: {problem}\n", status_code=503)
        return responses.PlainTextResponse("ok\n")

    async def metrics(self, request: requests.Request) -> responses.Response:
        counts = await run_in_threadpool(self.db.counts)
        body = self.stats.render(counts=counts, depth=self.pool.depth)
        return responses.Response(body, media_type=metrics.CONTENT_TYPE)


async def _refused(request: requests.Request, exc: Exception) -> responses.Response:
    assert isinstance(exc, Refused)
    return responses.JSONResponse(
        {"error": exc.message}, status_code=exc.status, headers=exc.headers
    )


async def _not_found(request: requests.Request, exc: Exception) -> responses.Response:
    status = int(getattr(exc, "status_code", 404))
    message = "no such endpoint" if status == 404 else "method not allowed"
    return responses.JSONResponse({"error": message}, status_code=status)


async def _crashed(request: requests.Request, exc: Exception) -> responses.Response:
    logs.event("internal-error", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
    return responses.JSONResponse({"error": "internal error (logged)"}, status_code=500)


class _AccessLog:
    """One JSON log line per request: method, path, status, milliseconds."""

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
            if scope["path"] not in ("/healthz", "/readyz", "/metrics"):
                logs.event(
                    "http",
                    method=scope["method"],
                    path=scope["path"],
                    status=status[0],
                    ms=round((time.monotonic() - started) * 1000, 1),
                )


def build(db: store.Store, config: settings.Settings) -> applications.Starlette:
    """The app; its lifespan starts and stops the worker pool."""
    service = Service(db, config)
    handler = Callable[[requests.Request], Awaitable[responses.Response]]
    table: list[tuple[str, handler, list[str]]] = [
        ("/api/v1/alertmanager", service.alertmanager, ["POST"]),
        ("/api/v1/incidents", service.create, ["POST"]),
        ("/api/v1/incidents", service.incidents, ["GET"]),
        ("/api/v1/incidents/{id:int}", service.incident, ["GET"]),
        ("/", service.index, ["GET"]),
        ("/incidents/{id:int}", service.page, ["GET"]),
        ("/incidents/{id:int}/bundle.tar.gz", service.bundle, ["GET"]),
        ("/healthz", service.healthz, ["GET"]),
        ("/readyz", service.readyz, ["GET"]),
        ("/metrics", service.metrics, ["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        service.pool.start()
        logs.event("started", workers=config.workers, queue=config.queue)
        try:
            yield
        finally:
            await run_in_threadpool(service.pool.stop)
            logs.event("stopped")

    app = applications.Starlette(
        routes=[Route(path, fn, methods=methods) for path, fn, methods in table],
        exception_handlers={
            Refused: _refused,
            404: _not_found,
            405: _not_found,
            Exception: _crashed,
        },
        lifespan=lifespan,
    )
    app.add_middleware(_AccessLog)
    app.state.service = service
    return app
