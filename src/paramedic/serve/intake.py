"""Group commit of the webhook: one writer thread stores the alerts of every request waiting at
that moment in one transaction, and answers each request only after that commit.

A webhook request hands its `Job` (the firing alerts with their routed incidents, the resolved
fingerprints) to `Intake.store` and awaits it. The writer takes every job queued (up to
MAX_BATCH), writes them in arrival order on one connection (firing.add / firing.resolve, so a
later job sees an earlier one's incident and deduplicates against it), commits, and only then wakes
the requests — a 202 always means the store has the alert — and queues the new incidents for
diagnosis (worker.Pool.put; a duplicate gives its reserved room back). When a batch's
transaction fails, each of its jobs is retried in a transaction of its own, so a failure is
answered (503) only to the requests it concerns. Under load this is one commit and one
connection checkout per batch instead of per request, and no thread-pool hop per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import queue
import threading
from typing import Any

import sqlalchemy as sa

from paramedic.serve import firing, logs, store, trace, worker

MAX_BATCH = 256
"""Most requests written in one transaction."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """What one webhook request stores."""

    firing: tuple[tuple[dict[str, Any], str, dict[str, Any]], ...]
    """(incident, fingerprint, alert document) of each routed firing alert."""
    resolved: tuple[str, ...]
    """Fingerprints of the resolved alerts."""
    trace: dict[str, Any] | None = None
    """The request's phase timestamps, when tracing (trace.py)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    incidents: tuple[tuple[int, bool], ...]
    """(incident id, created) of each firing alert, in the job's order."""
    closed: tuple[int, ...]
    """Incidents closed by the resolved alerts."""


_Waiting = tuple[Job, asyncio.AbstractEventLoop, "asyncio.Future[Stored]"]


class Intake:
    def __init__(self, db: store.Store, pool: worker.Pool) -> None:
        self.db, self.pool = db, pool
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def store(self, job: Job) -> Stored:
        """Store `job` (with the other requests waiting now); raises what the store raised.
        The job's room in the diagnosis queue must be reserved (worker.Pool.reserve)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Stored] = loop.create_future()
        self._queue.put((job, loop, done))
        return await done

    def start(self) -> None:
        self._thread = threading.Thread(target=self._write, name="paramedic-intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is waiting, then stop."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _write(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            for job, _, _ in batch:
                trace.mark(job.trace, "taken")
                if job.trace is not None:
                    job.trace["batch"] = len(batch)
            results = self._commit([job for job, _, _ in batch])
            for job, _, _ in batch:
                trace.mark(job.trace, "committed")
            # answer first: a committed incident waits in the store (phase queued) until the
            # pool has it, and the sweeper would find it there after a crash
            for (job, loop, done), result in zip(batch, results, strict=True):
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                    loop.call_soon_threadsafe(_settle, done, result)
                trace.mark(job.trace, "handed")
            for (job, _, _), result in zip(batch, results, strict=True):
                self._queue_diagnoses(job, result)

    def _commit(self, jobs: list[Job]) -> list[Stored | Exception]:
        try:
            with self.db.transaction() as conn:
                return [_write_job(conn, job) for job in jobs]
        except Exception as exc:
            if len(jobs) == 1:
                return [exc]
            logs.event("intake-batch-retried", jobs=len(jobs), error=str(exc).splitlines()[0])
        alone: list[Stored | Exception] = []
        for job in jobs:
            try:
                with self.db.transaction() as conn:
                    alone.append(_write_job(conn, job))
            except Exception as exc:
                alone.append(exc)
        return alone

    def _queue_diagnoses(self, job: Job, result: Stored | Exception) -> None:
        if isinstance(result, Exception):
            self.pool.release(len(job.firing))
            return
        for incident_id, created in result.incidents:
            if created:
                self.pool.put(incident_id)
            else:
                self.pool.release()


def _write_job(conn: sa.Connection, job: Job) -> Stored:
    incidents = tuple(
        firing.add(conn, incident, alert=alert, fingerprint=fingerprint)
        for incident, fingerprint, alert in job.firing
    )
    closed = (firing.resolve(conn, fingerprint) for fingerprint in job.resolved)
    return Stored(incidents=incidents, closed=tuple(i for i in closed if i is not None))


def _settle(done: asyncio.Future[Stored], result: Stored | Exception) -> None:
    if done.cancelled():
        return
    if isinstance(result, Exception):
        done.set_exception(result)
    else:
        done.set_result(result)
