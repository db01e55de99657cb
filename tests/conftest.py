"""Suite-wide test plumbing.

- `--update-golden` rewrites golden files instead of comparing (review the diff, then commit).
- Property tests search deep with PARAMEDIC_FUZZ=deep (set by .ci/run), short otherwise
  (tests/fuzzing.py).
- With PARAMEDIC_REQUIRE_ALL=1 (set by .ci/run) any skipped test fails the run, except the opt-in
  test against a real cluster: in CI every real component is installed, so nothing may skip.
- The many `python -m paramedic` subprocesses write and reuse bytecode even where the environment
  says PYTHONDONTWRITEBYTECODE (this machine's does): compiling the package again in every child
  cost about 0.8 s CPU each.
- `-n auto` (the default in pyproject.toml) starts two xdist workers more than there are cores
  with short fuzzing: many tests wait (timeouts they prove, child processes, servers), and the
  extra workers fill those waits. Measured on the 2-core machine: while it was slow and the suite
  CPU-bound, 139 s with 2 workers, 116-119 s with 3, 120 s with 4; on a day it ran twice as fast
  and a third of the run was waiting, 47-52 s with 3 and 40-42 s with 4 (docs/PERFORMANCE.md).
  With deep fuzzing (CI), one per core.
- Test files are handed to the workers longest first, by the seconds each took in the last run
  that ran it (kept in pytest's cache): a file of few but slow tests (moto, a browser, a
  server) started last used to run alone at the end. Without that record (a fresh clone, CI),
  xdist's own order applies: files with the most tests first.
- Once a process has collected the suite, what it holds then (imported modules, the collected
  items) is left out of garbage collection (`gc.freeze`): every full collection walked it again,
  1-3 s of CPU per worker in a run.
- The run (its controller, before any worker starts) owns one directory where the first process
  that needs PostgreSQL makes the run's initdb template (tests/probes/probefix_pg.py); it is
  removed when the run ends.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile

import pytest

import fuzzing  # loads the Hypothesis profile: deep in CI, short locally

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    # Deep fuzzing (CI) is CPU-bound for minutes: a third worker there only slices the CPU
    # thinner, and pushed a deep property test past its 120 s timeout.
    return (os.cpu_count() or 1) + (0 if fuzzing.DEEP else 2)


FILE_SECONDS = "paramedic/file-seconds"
_seconds: dict[str, float] = {}


def _recorded(config: pytest.Config) -> dict[str, float]:
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    found = cache.get(FILE_SECONDS, {}) if cache is not None else {}
    return found if isinstance(found, dict) else {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seconds = _recorded(config)
    if seconds:  # stable: a file's tests keep their order
        items.sort(key=lambda item: -float(seconds.get(item.nodeid.split("::")[0], 0.0)))


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


def pytest_configure(config: pytest.Config) -> None:
    if _recorded(config) and hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # keep the order given above
    if not hasattr(config, "workerinput"):  # the controller, or the one process of -n0
        from probes import probefix_pg

        os.environ[probefix_pg.SHARED] = tempfile.mkdtemp(prefix="paramedic-pg-run-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        from probes import probefix_pg

        shutil.rmtree(os.environ.pop(probefix_pg.SHARED, ""), ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    _seconds[path] = _seconds.get(path, 0.0) + report.duration
    if report.skipped and "live_cluster" not in report.keywords:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    cache = getattr(session.config, "cache", None)
    if cache is not None and not hasattr(session.config, "workerinput") and _seconds:
        cache.set(FILE_SECONDS, {**_recorded(session.config), **_seconds})
    if os.environ.get("PARAMEDIC_REQUIRE_ALL") == "1" and _skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"PARAMEDIC_REQUIRE_ALL: {len(_skipped)} test(s) skipped, e.g. {_skipped[0]}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
