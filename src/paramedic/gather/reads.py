"""The read requests the gatherer makes of the API: lists and gets, each named for its gap line.

Paths come from plan (kinds, plurals, group/versions); logs are asked for by container_logs.
"""

from __future__ import annotations

from paramedic.gather import fetch, plan


def listing(
    kind: str,
    namespace: str | None = None,
    *,
    selector: str | None = None,
    table: plan.Table = plan.RESOURCES,
) -> fetch.Request:
    """A list of `kind` (in `namespace`, or cluster-wide), by label `selector` if given."""
    plural = table[kind][1] if kind != "PodMetrics" else "podmetrics (metrics.k8s.io)"
    where = f" in {namespace}" if namespace else ""
    query = (("labelSelector", selector),) if selector else ()
    label = f" ({selector})" if selector else ""
    return fetch.Request(
        what=f"list {plural}{where}{label}",
        path=plan.path(kind, namespace, table=table),
        query=query,
        kind="metrics" if kind == "PodMetrics" else kind,
        namespace=namespace or "",
    )


def get(kind: str, namespace: str, name: str) -> fetch.Request:
    """A get by name; namespace "" for cluster-scoped kinds. A 404 is an answer, not a gap."""
    plural = plan.RESOURCES[kind][1]
    return fetch.Request(
        what=f"get {plural} {namespace + '/' if namespace else ''}{name}",
        path=plan.path(kind, namespace or None, name),
        missing_ok=True,
        kind=kind,
        namespace=namespace,
    )
