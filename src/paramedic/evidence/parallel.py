"""Run one function over the pieces of one big input in worker processes.

Loading a 478 MB dump is nine tenths YAML parsing and string sharing, in pieces (slices of the
items) that need nothing from each other; one process does that on one core. Here `WORKERS`
processes forked from this one do it: they inherit the input (the bytes of the file, never
copied or pickled), each piece sent to them is a pair of offsets, and each answer comes back
pickled, which keeps the strings a worker shared shared. An exception in a worker (a
BundleError naming the file and line) is raised here, for the first piece that has one.

`alongside` is the lighter form for a computation already in memory: one forked child per piece
but the last, which this process computes meanwhile (no pool, no idle parent; the child's answer
comes back pickled through a pipe).

Only where forking is safe and useful: a fork start method, more than one CPU, and no other
thread in this process (a fork copies only the calling thread; locks held by others would stay
locked in the child).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

WORKERS = 2
"""Worker processes: the machines this runs on have 2 cores or more; more workers would hold
more slices in memory at once for little gain."""

_T = TypeVar("_T")
_job: tuple[Callable[[Any, Any], Any], Any] | None = None
"""The function and the shared input of the pool being run, inherited by its workers."""
_state: dict[Any, Any] = {}


def available() -> bool:
    """True when `pool` may fork workers here."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
    )


@contextlib.contextmanager
def pool(
    function: Callable[[Any, Any], _T], shared: Any
) -> Iterator[Callable[[Iterable[Any]], Iterator[_T]]]:
    """`run(pieces)`: `function(shared, piece)` of each piece, in order, computed by workers.
    Leaving the block ends the workers (pieces not started are cancelled)."""
    global _job
    _job = (function, shared)
    executor = ProcessPoolExecutor(
        max_workers=WORKERS, mp_context=multiprocessing.get_context("fork")
    )
    try:
        yield lambda pieces: executor.map(_run, pieces)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        _job = None


def alongside(function: Callable[[Any, Any], _T], shared: Any, pieces: list[Any]) -> list[_T]:
    """`function(shared, piece)` of each piece, in order: the last one computed here while a
    forked child computes each other one. An exception in a child is raised here."""
    children = []
    try:
        for piece in pieces[:-1]:
            children.append(_fork(function, shared, piece))
        last = function(shared, pieces[-1])
    finally:
        answers = [_collect(*child) for child in children]
    for ok, value in answers:
        if not ok:
            raise value
    return [value for _, value in answers] + [last]


def _fork(function: Callable[[Any, Any], Any], shared: Any, piece: Any) -> tuple[int, int]:
    """A child computing `function(shared, piece)`: its pid and the pipe its answer comes by."""
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    os.close(read)  # the child: answer, then leave at once (no cleanup of the parent's heap)
    try:
        try:
            answer: tuple[bool, Any] = (True, function(shared, piece))
        except Exception as exc:  # sent to the parent, raised there
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable answer or exception: say what it was
            data = pickle.dumps((False, RuntimeError(f"worker: {answer[1]!r}: {exc}")))
        with os.fdopen(write, "wb") as out:
            out.write(data)
    finally:
        os._exit(0)


def _collect(pid: int, read: int) -> tuple[bool, Any]:
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    if not data:
        return False, RuntimeError(f"worker process {pid} ended without an answer")
    answer: tuple[bool, Any] = pickle.loads(data)
    return answer


def state(factory: Callable[[], _T]) -> _T:
    """One `factory()` per worker process, kept for its later pieces (a string-sharing table)."""
    found = _state.get(factory)
    if found is None:
        found = _state[factory] = factory()
    return found


def _run(piece: Any) -> Any:
    assert _job is not None, "a worker runs only inside pool()"
    function, shared = _job
    return function(shared, piece)
