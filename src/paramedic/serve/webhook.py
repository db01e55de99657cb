"""POST /api/v1/alertmanager: Alertmanager's webhook (payload version 4) into incidents.

The request is checked whole before anything is stored (token, size, JSON, version, fields;
no route for any firing alert and nothing resolved: 422), the routed firing alerts get room in
the diagnosis queue (full: 503 with Retry-After), and the intake's writer stores them with the
resolutions (intake.py). The answer, 202 with the incident ids, the closed ones and the
unrouted fingerprints, is sent only once they are committed.
"""

from __future__ import annotations

import time

from starlette import requests, responses

from paramedic import errors
from paramedic.serve import (
    alerts,
    boundary,
    intake,
    logs,
    metrics,
    routes,
    settings,
    trace,
    worker,
)


class Webhook:
    def __init__(
        self,
        config: settings.Settings,
        pool: worker.Pool,
        writer: intake.Intake,
        stats: metrics.Metrics,
    ) -> None:
        self.config, self.pool, self.writer, self.stats = config, pool, writer, stats

    async def handle(self, request: requests.Request) -> responses.Response:
        """The request, counted in the metrics and logged in one line (the access log leaves
        this path to it)."""
        started = time.monotonic()
        try:
            answer = await self._handle(request, started)
        except boundary.Refused as refused:
            self.stats.webhook.labels(status=str(refused.status)).inc()
            logs.event(
                "webhook",
                status=refused.status,
                ms=_ms(started),
                refused=refused.message,
            )
            raise
        self.stats.webhook.labels(status=str(answer.status_code)).inc()
        return answer

    async def _handle(self, request: requests.Request, started: float) -> responses.Response:
        phases = trace.request(request.headers.get(trace.HEADER))
        trace.mark(phases, "entered")
        boundary.authorize(request, self.config.token)
        body = await boundary.body(request, self.config.max_body)
        trace.mark(phases, "read")
        try:
            payload = alerts.parse(body)
        except errors.InputError as exc:
            raise boundary.Refused(400, str(exc)) from exc
        trace.mark(phases, "parsed")
        firing = [a for a in payload.alerts if a.status == "firing"]
        resolved = [a for a in payload.alerts if a.status == "resolved"]
        routed = [(a, routes.resolve(self.config.routes, a.labels)) for a in firing]
        unrouted = [a.fingerprint for a, target in routed if target is None]
        if firing and len(unrouted) == len(firing) and not resolved:
            first = firing[0]
            name = first.labels.get("alertname", "?")
            raise boundary.Refused(
                422,
                f"no route matches alert {name} (fingerprint {first.fingerprint}): see --routes",
            )
        job = intake.Job(
            firing=tuple(
                (
                    target.as_dict(),
                    alert.fingerprint,
                    {**alert.as_dict(), "externalURL": payload.externalURL},
                )
                for alert, target in routed
                if target is not None
            ),
            resolved=tuple(a.fingerprint for a in resolved),
            trace=phases,
        )
        boundary.reserve(self.pool, len(job.firing), self.config.queue)
        trace.mark(phases, "queued")
        try:
            stored = await self.writer.store(job)
        except Exception as exc:
            raise boundary.unavailable(exc) from exc
        trace.mark(phases, "resumed")
        ids = [incident_id for incident_id, _ in stored.incidents]
        closed = list(stored.closed)
        logs.event(
            "webhook",
            status=202,
            ms=_ms(started),
            receiver=payload.receiver,
            firing=len(firing),
            resolved=len(resolved),
            incidents=ids,
            closed=closed,
            unrouted=unrouted,
        )
        answer = responses.JSONResponse(
            {"incidents": ids, "closed": closed, "unrouted": unrouted}, status_code=202
        )
        trace.mark(phases, "answered")
        return answer


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
