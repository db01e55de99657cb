"""/metrics: Prometheus text format from the official client, one registry per app.

paramedic_incidents{state}                     incidents in the store by state (at scrape)
paramedic_diagnosis_duration_seconds           histogram of finished diagnoses
paramedic_queue_depth                          diagnoses waiting for a worker (this replica)
paramedic_webhook_requests_total{status}       webhook answers by HTTP status
"""

from __future__ import annotations

import prometheus_client as prom

CONTENT_TYPE = prom.CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = prom.CollectorRegistry()
        self.incidents = prom.Gauge(
            "paramedic_incidents",
            "Incidents in the store by state.",
            ["state"],
            registry=self.registry,
        )
        self.duration = prom.Histogram(
            "paramedic_diagnosis_duration_seconds",
            "Time from a worker taking an incident to its diagnosis being stored.",
            buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.queue = prom.Gauge(
            "paramedic_queue_depth", "Diagnoses waiting for a worker.", registry=self.registry
        )
        self.webhook = prom.Counter(
            "paramedic_webhook_requests",
            "Webhook requests by HTTP status.",
            ["status"],
            registry=self.registry,
        )

    def render(self, *, counts: dict[str, int], depth: int) -> bytes:
        for state, count in counts.items():
            self.incidents.labels(state=state).set(count)
        self.queue.set(depth)
        return prom.generate_latest(self.registry)
