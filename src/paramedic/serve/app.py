"""The ASGI app of `paramedic serve`: the endpoints of DESIGN.md §3, nothing else.

The Alertmanager webhook is webhook.py (its alerts are stored by the group-committing writer,
intake.py); refusals, the body limit, the token and the access log are boundary.py. Here: a
manual incident (POST /api/v1/incidents), the read endpoints and pages, the operations
endpoints, and the app with the lifespan that starts and stops the writer and the worker pool.
Store calls of these handlers run in the thread pool, diagnoses in the worker pool (worker.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pydantic
from starlette import applications, requests, responses
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from paramedic.serve import (
    boundary,
    intake,
    logs,
    metrics,
    pages,
    records,
    routes,
    schema,
    settings,
    store,
    trace,
    warmup,
    webhook,
    worker,
)


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
        self.intake = intake.Intake(db, self.pool)
        self.webhook = webhook.Webhook(config, self.pool, self.intake, self.stats)

    # -- POST -------------------------------------------------------------------------------
    async def create(self, request: requests.Request) -> responses.Response:
        boundary.authorize(request, self.config.token)
        body = await boundary.body(request, self.config.max_body)
        try:
            wanted = _IncidentIn.model_validate_json(body)
        except pydantic.ValidationError as exc:
            raise boundary.Refused(400, f"field {routes.first_problem(exc)}") from exc
        port = wanted.port
        if isinstance(port, int) and not 0 < port < 65536:
            raise boundary.Refused(400, "field port: must be 1-65535 or a port name")
        boundary.reserve(self.pool, 1, self.config.queue)
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
            raise boundary.unavailable(exc) from exc
        self.pool.put(incident_id)
        logs.event("incident-requested", id=incident_id)
        return responses.JSONResponse({"id": incident_id}, status_code=202)

    # -- GET --------------------------------------------------------------------------------
    async def incidents(self, request: requests.Request) -> responses.Response:
        state = request.query_params.get("state")
        if state is not None and state not in schema.STATES:
            raise boundary.Refused(400, f"state {state!r}: one of {', '.join(schema.STATES)}")
        found = await run_in_threadpool(lambda: self.db.list(state=state))
        return responses.JSONResponse(
            {"incidents": [r.as_api(with_diagnosis=False) for r in found]}
        )

    async def _record(self, request: requests.Request) -> records.Record:
        incident_id = int(request.path_params["id"])
        record = await run_in_threadpool(self.db.get, incident_id)
        if record is None:
            raise boundary.Refused(404, f"no incident {incident_id}")
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
            raise boundary.Refused(404, f"incident {record.id} has no bundle yet ({record.phase})")
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


def build(db: store.Store, config: settings.Settings) -> applications.Starlette:
    """The app; its lifespan starts and stops the worker pool."""
    service = Service(db, config)
    handler = Callable[[requests.Request], Awaitable[responses.Response]]
    table: list[tuple[str, handler, list[str]]] = [
        ("/api/v1/alertmanager", service.webhook.handle, ["POST"]),
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
        trace.start()
        await run_in_threadpool(service.pool.start)
        service.intake.start()
        await run_in_threadpool(warmup.request_path, db)
        if config.freeze_heap:
            warmup.freeze_heap()
        logs.event("started", workers=config.workers, queue=config.queue)
        try:
            yield
        finally:
            await run_in_threadpool(service.intake.stop)
            await run_in_threadpool(service.pool.stop)
            trace.dump()
            logs.event("stopped")

    app = applications.Starlette(
        routes=[Route(path, fn, methods=methods) for path, fn, methods in table],
        exception_handlers={
            boundary.Refused: boundary.refused,
            404: boundary.not_found,
            405: boundary.not_found,
            Exception: boundary.crashed,
        },
        lifespan=lifespan,
    )
    app.add_middleware(boundary.AccessLog)
    app.state.service = service
    return app
