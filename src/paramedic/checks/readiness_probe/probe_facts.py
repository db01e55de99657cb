"""What a probe definition says: its timing (with the kubelet's defaults), whether it calls the
database (a pg_isready/psql command, a /db-like path, or a path the logs tie to database work),
its handler and port, and the problems that make it fail once traffic resumes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paramedic.checks import clues
from paramedic.evidence import logscan
from paramedic.kube import objects

_DB_PATH = re.compile(r"(db|database|postgres|pg|deep|dependencies)", re.IGNORECASE)
_DB_WORDS = logscan.compile(
    r"database|\bdb\b|postgres|psycopg|pg_isready|connection pool|db pool", ignore_case=True
)
_DB_COMMAND = re.compile(r"\b(pg_isready|psql)\b")


def problems(probe: Mapping[str, Any], log_lines: list[str]) -> tuple[list[str], bool]:
    problems = []
    timeout, threshold = timing(probe)
    if timeout <= 1:
        problems.append(
            "timeoutSeconds 1" + (" (the default)" if "timeoutSeconds" not in probe else "")
        )
    if threshold <= 1:
        problems.append("failureThreshold 1")
    db = calls_db(probe, log_lines)
    if db:
        problems.append(f"calls the database ({db})")
    return problems, bool(db)


def timing(probe: Mapping[str, Any]) -> tuple[int, int]:
    """(timeoutSeconds, failureThreshold); unset or unreadable ones at the defaults 1 and 3."""
    return (
        objects.as_int(probe.get("timeoutSeconds")) or 1,
        objects.as_int(probe.get("failureThreshold")) or 3,
    )


def calls_db(probe: Mapping[str, Any], log_lines: list[str]) -> str:
    http = objects.as_dict(probe.get("httpGet"))
    command = " ".join(map(str, objects.as_list(objects.as_dict(probe.get("exec")).get("command"))))
    if _DB_COMMAND.search(command):
        return f"runs {_DB_COMMAND.search(command).group(1)}"  # type: ignore[union-attr]
    path = str(http.get("path", ""))
    if path and _DB_PATH.search(path):
        return f"path {path}"
    if path:
        hit = next((ln for ln in log_lines if path in ln and _DB_WORDS.search(ln)), None)
        if hit:
            return "log: " + clues.short(hit, 90)
    return ""


def handler(probe: Mapping[str, Any]) -> str:
    http = objects.as_dict(probe.get("httpGet"))
    if http:
        return f"GET {http.get('path', '/')}"
    if probe.get("exec"):
        return "exec " + " ".join(
            map(str, objects.as_list(objects.as_dict(probe["exec"]).get("command")))
        )
    if probe.get("tcpSocket"):
        return f"tcp {objects.as_dict(probe['tcpSocket']).get('port')}"
    return "grpc" if probe.get("grpc") else "?"


def port(probe: Mapping[str, Any], container: Mapping[str, Any]) -> Any:
    for key in ("httpGet", "tcpSocket", "grpc"):
        port = objects.as_dict(probe.get(key)).get("port")
        if port is not None:
            return port
    ports = objects.as_list(container.get("ports"))
    if not ports:
        return 8080
    first = objects.as_dict(ports[0])
    return first.get("name") or first.get("containerPort")
