"""The bundle layout (DESIGN.md §2, docs/BUNDLE.md), defined once for the loader, the writer and
the demos: file names, and where a container's log lives.

    objects.yaml|yml|json   metrics.yaml|yml|json   incident.yaml|yml|json
    probes.json             gaps.txt
    logs/<ns>/<pod>/<container>.log   (a previous container's log: <container>.previous.log)
    cloud/<provider>/<any name>.json  (a cloud CLI's JSON response; evidence.cloud_files)
    flows/<any name>.jsonl            (`hubble observe -o jsonpb` output; evidence.hubble)

Where several names are accepted, the first is the one the writer writes. A previous container's
log is kept under the container key "<container> (previous)" (`log_container`).
"""

from __future__ import annotations

from paramedic import errors
from paramedic.evidence import model

OBJECTS = ("objects.yaml", "objects.yml", "objects.json")
METRICS = ("metrics.yaml", "metrics.yml", "metrics.json")
INCIDENT = ("incident.yaml", "incident.yml", "incident.json")
PROBES = "probes.json"
GAPS = "gaps.txt"
LOGS = "logs"
CLOUD = "cloud"
FLOWS = "flows"

_PREVIOUS_KEY = " (previous)"
_PREVIOUS_FILE = ".previous"


def log_container(container: str, *, previous: bool) -> str:
    """The container part of a LogKey: "db", or "db (previous)" for the restarted one's log."""
    return f"{container}{_PREVIOUS_KEY}" if previous else container


def log_path(key: model.LogKey) -> str:
    """logs/<ns>/<pod>/<container>.log for a LogKey (.previous.log for a previous log); a name
    that could leave the bundle's logs/ folder is a GatherError."""
    namespace, pod, container = key
    suffix = ".log"
    if container.endswith(_PREVIOUS_KEY):
        container, suffix = container[: -len(_PREVIOUS_KEY)], f"{_PREVIOUS_FILE}.log"
    for part in (namespace, pod, container):
        if not part or "/" in part or part in (".", "..") or "\0" in part:
            raise errors.GatherError(
                f"cannot write logs for {namespace}/{pod}/{container}: unsafe name"
            )
    return f"{LOGS}/{namespace}/{pod}/{container}{suffix}"


def log_key(rel: str) -> model.LogKey | None:
    """logs/<ns>/<pod>/<container>.log -> (ns, pod, container); None for any other path."""
    parts = rel.split("/")
    if len(parts) != 4 or parts[0] != LOGS or not parts[3].endswith(".log"):
        return None
    container = parts[3][: -len(".log")]
    if container.endswith(_PREVIOUS_FILE):
        container = log_container(container[: -len(_PREVIOUS_FILE)], previous=True)
    return parts[1], parts[2], container
