"""Debian's `prometheus-alertmanager`, started on loopback ports with one webhook receiver.

Its route sends every alert to `paramedic serve`'s webhook (with the bearer token as
Alertmanager's own `http_config.authorization`), with short group_wait/group_interval so a
firing or resolved alert is delivered within seconds. Alerts are posted to Alertmanager's own
API (v2 /api/v2/alerts), so the webhook payload paramedic receives is the real one.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BINARY = "prometheus-alertmanager"

CONFIG = """\
global:
  resolve_timeout: 5s
route:
  receiver: paramedic
  group_by: [alertname, deployment]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: paramedic
    webhook_configs:
      - url: {url}
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


def missing() -> str:
    return "" if shutil.which(BINARY) else f"{BINARY} is not installed (apt install {BINARY})"


class Alertmanager:
    def __init__(self, webhook_url: str, token: str, port: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="paramedic-am-"))
        (self.root / "alertmanager.yml").write_text(CONFIG.format(url=webhook_url, token=token))
        self.url = f"http://127.0.0.1:{port}"
        self.log = (self.root / "alertmanager.log").open("wb")
        self.process = subprocess.Popen(
            [
                BINARY,
                f"--config.file={self.root / 'alertmanager.yml'}",
                f"--storage.path={self.root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        end = time.monotonic() + 30
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > end:
                self.stop()
                raise RuntimeError(f"alertmanager did not start: {self.logs()[-500:]}")
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def post(self, labels: dict[str, str], *, resolved: bool = False) -> None:
        """Fire (or resolve: endsAt in the past) one alert through the v2 API."""
        stamp = dt.datetime.now(dt.UTC)
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": {"summary": "connections to the database fail"},
            "generatorURL": "http://prometheus.test/graph?g0.expr=pg_errors",
            "startsAt": (stamp - dt.timedelta(minutes=5)).isoformat(),
        }
        if resolved:
            alert["endsAt"] = (stamp - dt.timedelta(seconds=1)).isoformat()
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps([alert]).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, answer.read()

    def logs(self) -> str:
        self.log.flush()
        return (self.root / "alertmanager.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)
