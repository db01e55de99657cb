"""The read requests the gatherer makes of the API: lists and gets, each named for its gap line.

Paths come from gather.table (kinds by key, plurals, group/versions); logs are asked for by
container_logs.
"""

from __future__ import annotations

from paramedic.gather import fetch, table


def listing(
    key: str,
    namespace: str | None = None,
    *,
    selector: str | None = None,
    resources: table.Table = table.RESOURCES,
) -> fetch.Request:
    """A list of what `key` reads (in `namespace`, or cluster-wide), by label `selector` if
    given; its gap names the key ('NetworkPolicy.projectcalico.org')."""
    metrics = key == "PodMetrics"
    plural = "podmetrics (metrics.k8s.io)" if metrics else table.resource_name(key, resources)
    where = f" in {namespace}" if namespace else ""
    query = (("labelSelector", selector),) if selector else ()
    label = f" ({selector})" if selector else ""
    return fetch.Request(
        what=f"list {plural}{where}{label}",
        path=table.path(key, namespace, table=resources),
        query=query,
        kind="metrics" if metrics else key,
        namespace=namespace or "",
    )


def get(kind: str, namespace: str, name: str) -> fetch.Request:
    """A get by name; namespace "" for cluster-scoped kinds. A 404 is an answer, not a gap."""
    plural = table.RESOURCES[kind][1]
    return fetch.Request(
        what=f"get {plural} {namespace + '/' if namespace else ''}{name}",
        path=table.path(kind, namespace or None, name),
        missing_ok=True,
        kind=kind,
        namespace=namespace,
    )
