"""`incident.yaml`: what a bundle is about, validated at the boundary.

source: user-service        # workload, pod, or label selector (also accepted as `from`)
target: profile-db.data     # Service, NS/NAME, DNS name or external host (also `to`)
port: 5432                  # optional: number or port name
namespace: app              # optional: namespace of the source
"""

from __future__ import annotations

from typing import Any

from paramedic import errors
from paramedic.evidence import model

_ALLOWED = {"source", "from", "target", "to", "port", "namespace", "runbook", "title", "notes"}


def parse(document: Any, *, where: str) -> model.Incident:
    """An Incident from a decoded incident.yaml; `where` names the file in errors."""
    if not isinstance(document, dict):
        raise errors.BundleError(f"{where}: expected a mapping with source and target")
    unknown = sorted(set(map(str, document)) - _ALLOWED)
    if unknown:
        raise errors.BundleError(f"{where}: unknown field {unknown[0]!r}")
    source = document.get("source", document.get("from"))
    target = document.get("target", document.get("to"))
    for field, value in (("source", source), ("target", target)):
        if not isinstance(value, str) or not value.strip():
            raise errors.BundleError(f"{where}: field {field!r} must be a non-empty string")
    port = document.get("port")
    if port is not None and not (
        (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536)
        or (isinstance(port, str) and port.strip())
    ):
        raise errors.BundleError(f"{where}: field 'port' must be 1-65535 or a port name")
    namespace = document.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise errors.BundleError(f"{where}: field 'namespace' must be a string")
    runbook = document.get("runbook", "db-connectivity")
    if not isinstance(runbook, str):
        raise errors.BundleError(f"{where}: field 'runbook' must be a string")
    title = document.get("title")  # only shown to people: anything but text is ignored
    title = title if isinstance(title, str) else ""
    assert isinstance(source, str) and isinstance(target, str)
    return model.Incident(
        source=source.strip(),
        target=target.strip(),
        port=port,
        namespace=namespace,
        runbook=runbook,
        title=" ".join(title.split()),
    )
