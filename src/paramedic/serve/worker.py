"""The bounded worker pool: a queue of incident ids, N worker processes, nothing dropped.

The web handlers `reserve` room before they store anything (no room: 503 with Retry-After,
Alertmanager retries), then `put` the ids they stored. Dispatcher threads `claim` each id in the
store (so it runs in one place at a time, even with replicas), run the diagnosis in a worker
process (a busy diagnosis never holds the web server's interpreter; a worker that dies fails
only its incident), which stores the result or the one-line reason there is none itself
(diagnosis.py: the documents never cross back to this process). A sweeper
thread re-queues what a crash left behind (store.recoverable), also at start-up.
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import threading
import time
from concurrent.futures import process

from paramedic.serve import diagnosis, logs, metrics, notify, settings, store, trace

STARTUP = 60.0
"""Longest wait for the worker processes at start (then the first diagnoses wait instead)."""


class Pool:
    def __init__(self, db: store.Store, config: settings.Settings, stats: metrics.Metrics):
        self.db, self.config, self.stats = db, config, stats
        self._ids: collections.deque[int] = collections.deque()
        self._known: set[int] = set()
        """Ids queued or running here (the sweeper leaves them alone)."""
        self._reserved = 0
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None

    # -- the web side ------------------------------------------------------------------------
    def reserve(self, count: int) -> bool:
        """Room for `count` more diagnoses? Reserved until `put` or `release`."""
        with self._cond:
            if len(self._ids) + self._reserved + count > self.config.queue:
                return False
            self._reserved += count
            return True

    def release(self, count: int = 1) -> None:
        with self._cond:
            self._reserved = max(0, self._reserved - count)

    def put(self, incident_id: int, *, reserved: bool = True) -> None:
        with self._cond:
            if reserved:
                self._reserved = max(0, self._reserved - 1)
            if incident_id not in self._known:
                self._known.add(incident_id)
                self._ids.append(incident_id)
                self._cond.notify()

    @property
    def depth(self) -> int:
        with self._cond:
            return len(self._ids)

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker processes (before the first request, so no alert waits for an
        interpreter to start and import paramedic), the dispatchers and the sweeper."""
        self._executor = self._new_executor()
        started = [self._executor.submit(diagnosis.ready) for _ in range(self.config.workers)]
        concurrent.futures.wait(started, timeout=STARTUP)
        for n in range(self.config.workers):
            self._spawn(self._dispatch, f"paramedic-dispatch-{n}")
        self._spawn(self._sweep, "paramedic-sweep")

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.config.timeout + 5)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, target: object, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _new_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.config.workers,
            mp_context=_context(),
            initializer=diagnosis.prepare,
            initargs=(self.config.worker_nice,),
        )

    # -- the worker side ---------------------------------------------------------------------
    def _take(self) -> int | None:
        with self._cond:
            while not self._ids and not self._stopping.is_set():
                self._cond.wait(timeout=1.0)
            return None if self._stopping.is_set() else self._ids.popleft()

    def _dispatch(self) -> None:
        while (incident_id := self._take()) is not None:
            try:
                self._diagnose(incident_id)
            except Exception as exc:  # the store went away mid-run: the sweeper retries later
                logs.event("diagnosis-not-stored", id=incident_id, error=str(exc).splitlines()[0])
            finally:
                with self._cond:
                    self._known.discard(incident_id)

    def _diagnose(self, incident_id: int) -> None:
        claiming = time.monotonic()
        record = self.db.claim(incident_id, lease=self.config.lease)
        trace.span("claim", claiming, id=incident_id)
        if record is None:
            return  # done already, or another replica has it
        request = diagnosis.Request(
            incident_id=record.id,
            source=record.source,
            target=record.target,
            port=record.port,
            namespace=record.namespace,
            timeout=self.config.timeout,
            kubeconfig=self.config.kubeconfig,
            context=self.config.context,
            store_url=self.db.url,
            attempt=record.attempts,
            alert_url=str((record.alert or {}).get("generatorURL") or ""),
        )
        logs.event("diagnosis-started", id=record.id, attempt=record.attempts)
        started = time.monotonic()
        result = self._run(request)  # stored by the worker process, or failed here
        elapsed = time.monotonic() - started
        trace.span("diagnosis", started, id=record.id)
        self.stats.duration.observe(elapsed)
        logs.event(
            "diagnosis-finished",
            id=record.id,
            seconds=round(elapsed, 3),
            top_cause=result.top_cause,
            error=result.error or None,
            stored=result.stored,
        )
        if result.stored:
            self._notify(record.id)

    def _run(self, request: diagnosis.Request) -> diagnosis.Result:
        """The diagnosis in a worker process, bounded by --timeout (plus start-up grace). The
        worker stores it; when the worker could not (it overran or died), the failure is
        stored here. diagnosis.NotStored (the store refused) is raised."""
        assert self._executor is not None
        try:
            future = self._executor.submit(diagnosis.run, request)
            return future.result(timeout=self.config.timeout + 10)
        except concurrent.futures.TimeoutError:
            error = f"the diagnosis did not finish within --timeout {self.config.timeout:g} s"
        except process.BrokenProcessPool as exc:
            self._executor = self._new_executor()
            error = f"the worker process died: {exc}"
        stored = self.db.fail(request.incident_id, error, attempt=request.attempt)
        return diagnosis.Result(error=error, stored=stored)

    def _notify(self, incident_id: int) -> None:
        if not self.config.notify:
            return
        record = self.db.get(incident_id)
        if record is None:
            return
        link = f"{self.config.public_url.rstrip('/')}/incidents/{record.id}"
        problem = notify.send(
            self.config.notify, notify.payload(record, link, self.config.notify_format)
        )
        logs.event("notified", id=record.id, ok=not problem, error=problem or None)

    def _sweep(self) -> None:
        """Re-queue what a crash left: at start, then every `sweep` seconds."""
        while not self._stopping.is_set():
            try:
                sweeping = time.monotonic()
                found = self.db.recoverable()
                trace.span("sweep", sweeping)
                for incident_id in found:
                    with self._cond:
                        if incident_id in self._known:
                            continue
                        if len(self._ids) + self._reserved >= self.config.queue:
                            break  # full: the next sweep takes the rest
                    logs.event("recovered", id=incident_id)
                    self.put(incident_id, reserved=False)
            except Exception as exc:
                logs.event("sweep-failed", error=str(exc).splitlines()[0])
            self._stopping.wait(self.config.sweep)


def _context() -> multiprocessing.context.BaseContext:
    """Worker processes are forked from a forkserver that imported what a diagnosis needs once
    (diagnosis.PRELOAD: about 0.7 s of CPU each new worker would otherwise spend importing it,
    again after every crash); never forked from this threaded interpreter itself. Without
    forkserver: spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(diagnosis.PRELOAD))
    return context
