"""The all-pairs matrix computed by two worker processes equals the one-process matrix (every
switch, every layer), and the engine forks only where `evidence.parallel` says it is safe."""

from __future__ import annotations

import os
import threading

from hypothesis import given

import clirun
import fuzzing
from paramedic.evidence import model as evidence_model
from paramedic.evidence import parallel
from paramedic.netpol import cluster, fast, matrix

from .test_properties import FLOWS, SEMANTICS, cluster_st


@fuzzing.depth(60)
@given(objs=cluster_st(), flow=FLOWS, semantics=SEMANTICS)
def test_two_worker_processes_compute_the_same_rows_as_one(objs, flow, semantics):
    ev = evidence_model.Evidence.of(objs)
    view, pods = cluster.of(ev), matrix.ordered_pods(ev)
    alone = fast.rows_in(view, pods, *flow, semantics, fork=False)
    shared = fast.rows_in(view, pods, *flow, semantics, fork=True)
    assert shared == alone


def test_a_big_cluster_is_shared_between_workers_where_forking_is_safe():
    # In a fresh process: this one may still hold threads an earlier test left behind (a check
    # or a request abandoned at its deadline), and then it rightly never forks.
    code = "from paramedic.netpol import fast; print(fast.workers(fast.PARALLEL_MIN_PODS))"
    done = clirun.python(code)
    done.check_returncode()
    expected = parallel.WORKERS if (os.cpu_count() or 1) > 1 else 1
    assert int(done.stdout) == expected


def test_a_small_cluster_stays_in_one_process():
    assert fast.workers(fast.PARALLEL_MIN_PODS - 1) == 1


def test_no_fork_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="another thread")
    other.start()
    try:
        assert fast.workers(10 * fast.PARALLEL_MIN_PODS) == 1
    finally:
        stop.set()
        other.join()
