"""Running paramedic from a test: in-process (`run`, through `cli.main` as the console script
does) or as its own process (`subprocess`, for what only a process shows: exit codes after a
crash, stderr written by libraries, memory limits, a deadline that ends the process).

Which process runs where:
- `subprocess(...)` forks it from this worker's fork server (tests/zygote.py: paramedic already
  imported, so a child costs milliseconds instead of ~0.45 s CPU of interpreter start and
  imports) and returns what `subprocess.run` would: exit status (negative for a signal),
  stdout, stderr, TimeoutExpired after killing the child. The child gets this process's
  environment (plus `env`), working directory and stdin, RLIMIT_AS when `memory` is given, and
  leaves through the interpreter's own exit (zygote.py lists what it inherits and why that is
  safe).
- `subprocess(..., fresh=True)` execs a genuine `python -m paramedic`, and so does every request
  whose interpreter-level variables (PYTHON*, locale, TZ, TMPDIR, MIMALLOC_*) differ from the
  fork server's. Tests kept on a genuine process, so that the fork never hides what only a
  real start shows: one crash-path test of tests/live/test_hostile_input.py, a memory-limited
  live run in tests/live/test_address_space.py (a real start under the limit), and tests whose
  subject is the process itself: tests/cli/test_kubectl_habits.py runs the installed
  `kubectl-paramedic` plugin through kubectl, tests/live/test_watch_and_interrupt.py sends
  Ctrl-C to a real process and tests/live/test_address_space.py measures the address space a
  fresh import reserves (a fork has the server's).
- `python(code, ...)`: `python -c CODE` the same way, for code that needs a process of its own
  without the test runner's threads (tests/evidence/test_parallel_load.py,
  tests/netpol/test_parallel.py, tests/evidence/test_selective_load.py).
"""

from __future__ import annotations

import atexit
import json
import locale
import os
import resource
import selectors
import socket
import subprocess as sp
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

import zygote as zygote_server

ZYGOTE = Path(zygote_server.__file__)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`paramedic ARGV` in-process: (exit status, stdout, stderr)."""
    from paramedic.cli import main as cli_main  # not needed by the benchmarks that import kits

    with pytest.raises(SystemExit) as exited:
        cli_main.main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def subprocess(
    *argv: str,
    timeout: float = 60,
    memory: int | None = None,
    env: Mapping[str, str] | None = None,
    fresh: bool = False,
) -> sp.CompletedProcess[str]:
    """`python -m paramedic ARGV` as a child, its address space capped at `memory` bytes;
    forked from the fork server unless `fresh` (see the module docstring)."""
    return _child(None, list(argv), timeout, memory, {**os.environ, **(env or {})}, fresh)


def python(
    code: str, *argv: str, timeout: float = 60, fresh: bool = False
) -> sp.CompletedProcess[str]:
    """`python -c CODE ARGV` as a child (check its returncode), forked unless `fresh`: for code
    that needs a process of its own, one without the test runner's threads."""
    return _child(code, list(argv), timeout, None, dict(os.environ), fresh)


def _child(
    code: str | None,
    argv: list[str],
    timeout: float,
    memory: int | None,
    env: dict[str, str],
    fresh: bool,
) -> sp.CompletedProcess[str]:
    command = [sys.executable, *(("-m", "paramedic") if code is None else ("-c", code)), *argv]
    server = None if fresh else _server()
    if server is None or zygote_server.frozen(env) != server.frozen:
        return _exec(command, timeout, memory, env)
    request = {"argv": argv, "env": env, "cwd": os.getcwd(), "memory": memory, "code": code}
    return server.run(command, request, timeout)


def _exec(
    command: list[str], timeout: float, memory: int | None, env: dict[str, str]
) -> sp.CompletedProcess[str]:
    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return sp.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        env=env,
        check=False,
    )


class _Server:
    """This worker's fork server: started on first use, ended when this process exits."""

    def __init__(self) -> None:
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.frozen = zygote_server.frozen(dict(os.environ))
        self.process = sp.Popen(
            [sys.executable, str(ZYGOTE), str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=sp.DEVNULL,
            stdout=sp.DEVNULL,
            stderr=sp.PIPE,
            start_new_session=True,  # a Ctrl-C at the terminal is the worker's, not the server's
        )
        theirs.close()
        if self.control.recv(16) != b"ready":
            _, err = self.process.communicate(timeout=60)
            raise RuntimeError(f"fork server did not start: {err.decode()}")
        assert self.process.stderr is not None
        os.set_blocking(self.process.stderr.fileno(), False)
        said = self.process.stderr.read()
        if said:  # an import that writes would hide that line from every child
            raise RuntimeError(f"fork server wrote at start: {said.decode()}")
        atexit.register(self.stop)

    def stop(self) -> None:
        self.control.close()
        self.process.wait(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def run(
        self, command: list[str], request: dict[str, object], timeout: float
    ) -> sp.CompletedProcess[str]:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stdin = 0 if _is_open(0) else os.open(os.devnull, os.O_RDONLY)
        try:
            message = json.dumps(request).encode()
            socket.send_fds(self.control, [message], [theirs.fileno(), stdin, out_w, err_w])
        finally:
            for fd in {theirs.detach(), out_w, err_w, stdin} - {0}:
                os.close(fd)
        with mine:
            json.loads(mine.recv(4096))  # {"pid": N}: forked
            out, err, finished = _read(out_r, err_r, time.monotonic() + timeout)
            if not finished:
                mine.send(b"kill")
            status = json.loads(mine.recv(4096))["status"]
        if not finished:
            raise sp.TimeoutExpired(command, timeout, output=out or None, stderr=err or None)
        return sp.CompletedProcess(command, status, _text(out), _text(err))


def _read(out_fd: int, err_fd: int, deadline: float) -> tuple[bytes, bytes, bool]:
    """Both pipes read to their end (True) or until the deadline (False), then closed."""
    chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            ready = selector.select(left) if left > 0 else []
            if not ready:
                break
            for key, _ in ready:
                data = os.read(key.fd, 1 << 16)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
        finished = not selector.get_map()
    os.close(out_fd)
    os.close(err_fd)
    return b"".join(chunks[out_fd]), b"".join(chunks[err_fd]), finished


def _text(data: bytes) -> str:
    """As `subprocess.run(text=True)` decodes: the locale's encoding, universal newlines."""
    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


_lock = threading.Lock()
_servers: list[_Server] = []


def _server() -> _Server:
    with _lock:
        if not _servers:
            _servers.append(_Server())
        return _servers[0]
