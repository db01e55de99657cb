"""Gather the evidence for one incident from a live cluster (read-only unless --probe-pod).

Phase one reads objects in four waves of parallel requests under the --timeout deadline
(waves.py says what each wave asks for and why). Phase two, only with --probe-pod, runs tcp
and dns probes from a short-lived pod with the source's labels (probe_pod.py), and the same tcp
probes from that pod's node and from the database's node (node_probe.py). A failed or
timed-out request is a gap line in Evidence.gaps; nothing aborts a run except a kubeconfig that
cannot be used, an API server that answers nothing at all, or one that rejects the
credentials (401) or forbids (403) every request (errors.KubeAccessError).
The database probe (--db-probe) runs after this, on the gathered evidence: the caller calls
db_probe.run (it needs the gathered pods and the Secrets they reference).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from paramedic import errors, timeouts
from paramedic.evidence import clock, model, needs
from paramedic.gather import fetch, kubeapi, node_probe, probe_pod, table, waves
from paramedic.kube import objects, pods

DB_PROBE_ELSEWHERE = (
    "db_probe: call paramedic.gather.db_probe.run(evidence, ...) after gathering; it probes"
    " the database with what the gathered evidence says"
)


def gather(
    incident: model.Incident,
    *,
    kubeconfig: str | None,
    context: str | None,
    limits: timeouts.Timeouts,
    probe_pod: bool,
    probe_image: str | None,
    db_probe: bool,
    progress: bool,
    wanted: tuple[needs.Need, ...],
) -> model.Evidence:
    """Evidence for `incident` from the cluster of the kubeconfig context (or in-cluster).

    `wanted`: the needs of the checks that will read it (runbooks.engine.needs); gathering
    fetches what resolving the incident requires plus what these name."""
    if db_probe:
        raise errors.InputError(DB_PROBE_ELSEWHERE)
    start = time.monotonic()
    api = kubeapi.connect(
        kubeconfig=kubeconfig, context=context, pool_size=fetch.WORKERS, timeout=limits.total
    )
    namespace = incident.namespace or api.namespace
    pinned = dataclasses.replace(incident, namespace=namespace)
    with _progress(progress) as report:
        fetcher = fetch.Fetcher(
            api,
            deadline=start + limits.total,
            request_timeout=limits.request,
            total=limits.total,
            on_progress=report,
        )
        try:
            found = waves.Gathering(fetcher, pinned, limits, wanted).run()
            if not fetcher.answered:
                raise kubeapi.unreachable(
                    api.client.configuration.host,
                    api.context,
                    fetcher.first_problem or "no answer",
                )
            # no object is missing when none was shown: the run ends on what kept them hidden
            if fetcher.unauthorized == fetcher.answered:
                raise kubeapi.rejected(api.client.configuration.host, api.context)
            if fetcher.reads and len(fetcher.refusals) == fetcher.reads:
                raise kubeapi.may_read_nothing(api.context, fetcher.refusals[0])
            probes = ()
            if probe_pod:
                probes = probe_pod_results(fetcher, found, pinned, probe_image, limits)
        finally:
            fetcher.close()
            kubeapi.close(api)
    return model.Evidence.of(
        table.ordered(found.objects.values()),
        logs=found.log_reader.logs,
        metrics=found.metrics,
        probes=probes,
        incident=pinned,
        provenance=f"live cluster {api.context}",
        gaps=fetcher.gaps,
        taken_at=clock.now(),
        taken_basis="gathered at",
    )


def probe_pod_results(
    fetcher: fetch.Fetcher,
    found: waves.Gathering,
    incident: model.Incident,
    image: str | None,
    limits: timeouts.Timeouts,
) -> tuple[Any, ...]:
    labels = _source_labels(found)
    if labels is None:
        fetcher.gaps.append(
            "probe pod not started: the source has no pods or pod template to copy labels from"
        )
        return ()
    checks = probe_pod.checks_for(
        found.target_info, found.service, found.target_pods, incident.port
    )
    if not checks:
        fetcher.gaps.append("probe pod not started: nothing to probe (no target address known)")
        return ()
    namespace = str(incident.namespace)
    specs = node_probe.specs(
        fetcher,
        namespace=namespace,
        labels=labels,
        checks=checks,
        source_pods=found.source_pods,
        target_pods=found.target_pods,
    )
    return probe_pod.run(
        fetcher,
        namespace=namespace,
        specs=specs,
        image=image or probe_pod.DEFAULT_IMAGE,
        limits=limits,
    )


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int], None] | None]:
    """A transient progress bar on stderr: what is being fetched, how many answers are in."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("asking the API server", total=0)

        def report(what: str, added: int) -> None:
            if added:
                bar.update(task, total=(bar.tasks[0].total or 0) + added)
            else:
                bar.update(task, advance=1, description=what[:60])

        yield report


def _source_labels(found: waves.Gathering) -> dict[str, str] | None:
    """Labels the probe pod wears: the pod template's (or the source pod's)."""
    if found.workload is not None:
        return pods.template_labels(found.workload)
    if found.source_pods:
        return objects.labels(found.source_pods[0])
    return None
