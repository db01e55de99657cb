"""`paramedic serve` over HTTP on loopback: the webhook, incidents, pages, bundle, operations.

The diagnoses run the real live gatherer against the fake API server holding the reference
demo, whose cause is a NetworkPolicy."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from live import livekit
from paramedic.evidence import bundle as bundle_loader
from paramedic.serve import settings, store

from . import servekit

LABELS = {
    "alertname": "PostgresConnectionErrors",
    "deployment": "user-service",
    "db_service": "profile-db.data",
    "namespace": "app",
}
SECRET_VALUES = [v for values in livekit.RAW_SECRETS.values() for v in values.values()]


def _alert(fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {"labels": {**LABELS, **labels}, "fingerprint": fingerprint, "status": status}


def _post_alerts(url: str, *alerts: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
    status, _, doc = servekit.request(
        "POST", f"{url}/api/v1/alertmanager", servekit.webhook_payload(list(alerts)), token=token
    )
    return status, doc


def test_a_firing_alert_becomes_an_incident_whose_diagnosis_names_the_cause(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    with servekit.running(sqlite_db, config) as url:
        status, doc = _post_alerts(url, _alert("fp-1"))
        assert (status, doc["incidents"]) == (202, [1])
        incident = servekit.diagnosed(url, 1)
    assert incident["state"] == "open"
    assert incident["error"] is None
    assert incident["incident"] == {
        "from": "user-service",
        "to": "profile-db.data",
        "port": 5432,
        "namespace": "app",
    }
    assert incident["alert"]["labels"] == LABELS
    diagnosis = incident["diagnosis"]
    assert diagnosis["schema"] == "paramedic.diagnosis/v1"
    assert diagnosis["findings"][0]["check"] == "network-policy"
    assert diagnosis["findings"][0]["verdict"] == "cause"
    assert incident["top_cause"].startswith("network-policy: ")


def test_the_webhook_answers_before_the_diagnosis_ends(
    sqlite_db: store.Store, config: settings.Settings, tmp_path: Path
) -> None:
    with livekit.seed_server() as slow:
        slow.slow["/api/v1/namespaces/app/pods"] = 3.0
        config = dataclasses.replace(config, kubeconfig=str(slow.kubeconfig(tmp_path / "k")))
        with servekit.running(sqlite_db, config) as url:
            status, doc = _post_alerts(url, _alert("fp-slow"))
            assert status == 202
            listed = servekit.request("GET", f"{url}/api/v1/incidents")[2]["incidents"]
            assert listed[0]["phase"] in ("queued", "running")
            slow.release()
            assert servekit.diagnosed(url, doc["incidents"][0])["diagnosis"] is not None


def test_a_repeated_alert_is_deduplicated_and_resolving_closes_it(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    with servekit.running(sqlite_db, config) as url:
        assert _post_alerts(url, _alert("fp-1"))[1]["incidents"] == [1]
        assert _post_alerts(url, _alert("fp-1"), _alert("fp-2"))[1]["incidents"] == [1, 2]
        servekit.diagnosed(url, 1)
        status, doc = _post_alerts(url, _alert("fp-1", status="resolved"))
        assert (status, doc["closed"]) == (202, [1])
        closed = servekit.request("GET", f"{url}/api/v1/incidents?state=closed")[2]
        assert [i["id"] for i in closed["incidents"]] == [1]
        kept = servekit.request("GET", f"{url}/api/v1/incidents/1")[2]
        assert kept["state"] == "closed" and kept["diagnosis"] is not None
        assert _post_alerts(url, _alert("fp-1"))[1]["incidents"] == [3]  # fires again: new
    assert len(sqlite_db.list()) == 3


def test_posts_arriving_together_are_each_stored_once_before_their_answer(
    db: store.Store, config: settings.Settings
) -> None:
    """24 posts at once (each of 12 alerts twice, one alert also resolved): the writer commits
    them in batches; every answer names an incident already in the store, one per alert."""
    posts = [_alert(f"fp-{n % 12}") for n in range(24)]
    with servekit.running(db, dataclasses.replace(config, queue=64)) as url:

        def post(alert: dict[str, Any]) -> list[int]:
            status, doc = _post_alerts(url, alert)
            assert status == 202, doc
            stored = servekit.request("GET", f"{url}/api/v1/incidents/{doc['incidents'][0]}")
            assert stored[0] == 200 and stored[2]["alert"]["fingerprint"] == alert["fingerprint"]
            return doc["incidents"]  # type: ignore[no-any-return]

        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            answered = list(pool.map(post, posts))
        assert _post_alerts(url, _alert("fp-0", status="resolved"))[1]["closed"] == answered[0]
    by_alert: dict[str, set[int]] = {}
    for alert, ids in zip(posts, answered, strict=True):
        by_alert.setdefault(alert["fingerprint"], set()).update(ids)
    assert all(len(ids) == 1 for ids in by_alert.values())
    assert sorted(r.id for r in db.list()) == sorted(i for ids in by_alert.values() for i in ids)
    assert len(db.list()) == 12 and db.counts()["closed"] == 1


def test_a_manual_incident_is_diagnosed(sqlite_db: store.Store, config: settings.Settings) -> None:
    body = {"from": "user-service", "to": "profile-db.data", "port": 5432, "namespace": "app"}
    with servekit.running(sqlite_db, config) as url:
        status, _, doc = servekit.request("POST", f"{url}/api/v1/incidents", body)
        assert status == 202
        done = servekit.diagnosed(url, doc["id"])
    assert done["alert"] is None
    assert done["diagnosis"]["findings"][0]["check"] == "network-policy"


def test_pages_bundle_and_operations(sqlite_db: store.Store, config: settings.Settings) -> None:
    with servekit.running(sqlite_db, config) as url:
        _post_alerts(url, _alert("fp-1", deployment="user-service<script>"))
        _post_alerts(url, _alert("fp-2"))
        failed = servekit.diagnosed(url, 1)
        servekit.diagnosed(url, 2)
        failed_page = servekit.request("GET", f"{url}/incidents/1")[2]
        listing = servekit.request("GET", f"{url}/")[2]
        page = servekit.request("GET", f"{url}/incidents/2")[2]
        status, headers, data = servekit.request("GET", f"{url}/incidents/2/bundle.tar.gz")
        health = servekit.request("GET", f"{url}/healthz")[:3:2]
        ready = servekit.request("GET", f"{url}/readyz")[:3:2]
        metrics = servekit.request("GET", f"{url}/metrics")[2]
        missing = servekit.request("GET", f"{url}/incidents/99")[:3:2]
    assert "user-service&lt;script&gt;" in listing and "<script>" not in listing
    assert listing.index('href="/incidents/2"') < listing.index('href="/incidents/1"')
    assert "network-policy" in page and 'href="/"' in page
    assert 'href="/incidents/2/bundle.tar.gz"' in page
    assert 'href="http://prometheus.example/graph"' in page
    assert status == 200 and headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        text = b"".join(
            tar.extractfile(m).read()
            for m in tar.getmembers()
            if m.isfile()  # type: ignore[union-attr]
        ).decode()
    for value in SECRET_VALUES:
        assert value not in text and value not in page
    assert health == (200, "ok\n") and ready == (200, "ok\n")
    assert failed["state"] == "failed" and "user-service<script>" in failed["error"]
    assert "No diagnosis:" in failed_page and "<script>" not in failed_page
    assert 'paramedic_incidents{state="open"} 1.0' in metrics
    assert 'paramedic_incidents{state="failed"} 1.0' in metrics
    assert 'paramedic_webhook_requests_total{status="202"} 2.0' in metrics
    assert "paramedic_diagnosis_duration_seconds_count" in metrics
    assert "paramedic_queue_depth" in metrics
    assert missing == (404, {"error": "no incident 99"})


def test_the_bundle_loads_back_as_evidence(
    sqlite_db: store.Store, config: settings.Settings, tmp_path: Path
) -> None:
    with servekit.running(sqlite_db, config) as url:
        _post_alerts(url, _alert("fp-1"))
        servekit.diagnosed(url, 1)
        data = servekit.request("GET", f"{url}/incidents/1/bundle.tar.gz")[2]
    (tmp_path / "b.tar.gz").write_bytes(data)
    evidence = bundle_loader.load(tmp_path / "b.tar.gz")
    assert evidence.incident is not None and evidence.incident.source == "user-service"
    assert evidence.kind("NetworkPolicy")


OVERSIZED = b'{"version": "4", "alerts": [' + b" " * (settings.MAX_BODY + 10) + b"]}"


@pytest.mark.parametrize(
    ("body", "token", "status", "says"),
    [
        (b"{not json", None, 400, "body is not JSON"),
        (b"[1, 2]", None, 400, "must be a JSON object"),
        (
            json.dumps(servekit.webhook_payload([_alert("f")], version="3")).encode(),
            None,
            400,
            "payload version '3' is not supported",
        ),
        (
            json.dumps(
                {**servekit.webhook_payload([_alert("f")]), "alerts": [{"status": "firing"}]}
            ).encode(),
            None,
            400,
            "payload field alerts.0.labels",
        ),
        (
            json.dumps(servekit.webhook_payload([_alert("f", alertname="DiskFull")])).encode(),
            None,
            422,
            "no route matches alert DiskFull",
        ),
        (OVERSIZED, None, 413, f"body larger than {settings.MAX_BODY} bytes"),
        (
            json.dumps(servekit.webhook_payload([_alert("f")])).encode(),
            "",
            401,
            "missing bearer token",
        ),
        (
            json.dumps(servekit.webhook_payload([_alert("f")])).encode(),
            "wrong",
            401,
            "wrong bearer token",
        ),
    ],
    ids=[
        "malformed-json",
        "not-an-object",
        "wrong-version",
        "missing-field",
        "unknown-route",
        "oversized",
        "missing-token",
        "wrong-token",
    ],
)
def test_a_bad_webhook_request_is_one_4xx_line_and_stores_nothing(
    sqlite_db: store.Store,
    config: settings.Settings,
    body: bytes,
    token: str | None,
    status: int,
    says: str,
) -> None:
    config = dataclasses.replace(config, token="s3cret-token" if token is not None else None)
    with servekit.running(sqlite_db, config) as url:
        got, _, doc = servekit.request(
            "POST",
            f"{url}/api/v1/alertmanager",
            body,
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
        metrics = servekit.request("GET", f"{url}/metrics")[2]
    assert got == status
    assert list(doc) == ["error"] and says in doc["error"] and "\n" not in doc["error"]
    assert sqlite_db.list() == []
    assert f'paramedic_webhook_requests_total{{status="{status}"}} 1.0' in metrics


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"to": "profile-db.data"}, "field from: Field required"),
        ({"from": "a", "to": "b", "port": 70000}, "field port: must be 1-65535"),
        ({"from": "a", "to": "b", "colour": "red"}, "field colour: Extra inputs"),
    ],
)
def test_a_bad_incident_request_is_400_and_stores_nothing(
    sqlite_db: store.Store, config: settings.Settings, body: dict[str, Any], says: str
) -> None:
    with servekit.running(sqlite_db, config) as url:
        status, _, doc = servekit.request("POST", f"{url}/api/v1/incidents", body)
        bad_state = servekit.request("GET", f"{url}/api/v1/incidents?state=sleeping")
    assert status == 400 and says in doc["error"]
    assert bad_state[0] == 400 and "one of open, closed, failed" in bad_state[2]["error"]
    assert sqlite_db.list() == []


def test_the_right_token_is_accepted(sqlite_db: store.Store, config: settings.Settings) -> None:
    config = dataclasses.replace(config, token="s3cret-token")
    with servekit.running(sqlite_db, config) as url:
        assert _post_alerts(url, _alert("fp-1"), token="s3cret-token")[0] == 202
        assert servekit.request("GET", f"{url}/api/v1/incidents")[0] == 200  # reads are open


def test_a_full_queue_answers_503_with_retry_after_and_stores_nothing(
    sqlite_db: store.Store, config: settings.Settings, tmp_path: Path
) -> None:
    with livekit.seed_server() as slow:
        slow.slow["/api/v1/namespaces/app/pods"] = 5.0
        config = dataclasses.replace(
            config, kubeconfig=str(slow.kubeconfig(tmp_path / "k")), workers=1, queue=2
        )
        with servekit.running(sqlite_db, config) as url:
            # the first is taken off the queue before the next two fill it (a dispatcher slow to
            # take it, on a loaded machine, would otherwise leave no room for the third)
            accepted = [_post_alerts(url, _alert("fp-0"))[0]]
            servekit.wait_for(lambda: sqlite_db.phases().get("running"), 30, "one running")
            accepted += [_post_alerts(url, _alert(f"fp-{n}"))[0] for n in (1, 2)]
            status, headers, doc = servekit.request(
                "POST",
                f"{url}/api/v1/alertmanager",
                servekit.webhook_payload([_alert("fp-x"), _alert("fp-y")]),
            )
            assert accepted == [202, 202, 202]  # one running, two waiting
            assert status == 503 and headers["retry-after"] == "5"
            assert "diagnosis queue full (2)" in doc["error"]
            assert len(sqlite_db.list()) == 3
            slow.release()


def test_a_finished_diagnosis_is_notified(
    sqlite_db: store.Store, config: settings.Settings
) -> None:
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    config = dataclasses.replace(
        config,
        notify=f"http://127.0.0.1:{hook.server_address[1]}/hook",
        public_url="https://paramedic.example",
    )
    try:
        with servekit.running(sqlite_db, config) as url:
            _post_alerts(url, _alert("fp-1"))
            servekit.wait_for(lambda: received, 60, "a notification")
    finally:
        hook.shutdown()
        hook.server_close()
    text = received[0]["text"]
    assert text.startswith(
        "paramedic: incident 1 (user-service -> profile-db.data): network-policy"
    )
    assert text.endswith("https://paramedic.example/incidents/1")
