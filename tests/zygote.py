"""The fork server behind `clirun.subprocess`: one process per pytest worker that has imported
paramedic once and forks a fresh `python -m paramedic` for each request.

Starting the interpreter and importing the CLI, the checks and the Kubernetes client cost about
0.45 s CPU per child; a fork of this process costs a few milliseconds. Started by `clirun` as
`python tests/zygote.py FD`, FD being its end of the control socket; it ends when that closes.

Protocol (AF_UNIX SOCK_SEQPACKET, one message each): the client sends a JSON request
{argv, env, cwd, memory, code} with four descriptors: the request's own socket, then the child's
stdin, stdout and stderr. The server forks and answers on the request socket {"pid": N}; later,
when the child ends, {"status": S} (a returncode: negative for a signal). "kill" (or the client
closing the request socket, e.g. on a timeout) kills the child first. Nothing here uses threads,
so a fork copies a single-threaded process.

A child becomes a fresh process as far as paramedic can tell: its descriptors 0-2, the
environment (os.environ replaced wholesale, so libraries and programs it starts see the same),
the working directory and sys.path[0] as `python -m` sets it, sys.argv, RLIMIT_AS when asked,
the signal dispositions the interpreter starts with (this process changes none), and then
`runpy` runs `paramedic.__main__` as `python -m paramedic` does (or, when the request has
`code`, that code as `python -c CODE ARGV` runs it, in a new `__main__`); the child leaves
through the interpreter's own exit, so SystemExit, a traceback of an uncaught exception
(exit 1), atexit, flushing stdio and waiting for non-daemon threads happen as in a real
process (a traceback shows this file's frames above the program's).

What a child inherits that a fresh process would compute again, and why that is safe:
- What the interpreter reads from the environment at start (PYTHON*, the locale, TZ, TMPDIR,
  mimalloc's MIMALLOC_* read when yaml-rs loads): `clirun` runs a genuine process whenever a
  request's value of one of these (`FROZEN`) differs from this server's.
- Modules imported here: paramedic except `serve` (a plugin, which reads its trace variable at
  import; a child that runs it imports it itself), and the Kubernetes client and rich, which
  paramedic imports lazily. None of paramedic's modules reads the environment, the terminal,
  the working directory or the clock at import (colour and width are decided per call in
  cli/common.py). The Kubernetes client records KUBECONFIG at import
  (`kube_config.KUBE_CONFIG_DEFAULT_LOCATION`); paramedic never uses that default, it always
  passes the file it found (gather/kubeapi.py). An import that warned or wrote to stderr here
  would hide that output from every child, so the server refuses to start then.
- The hash seed: children of one server share one (a real process draws its own); `random`
  reseeds itself after a fork.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import json
import os
import resource
import runpy
import selectors
import signal
import socket
import sys
import types
import warnings
from typing import Any

FROZEN = ("PYTHON", "LC_", "LANG", "LANGUAGE", "TZ", "TMPDIR", "MIMALLOC_")
"""Prefixes of variables read once by the interpreter or a loaded library: a child inherits
this server's, so `clirun` forks only when the request's values equal the server's."""

LAZY = ("kubernetes.client", "kubernetes.config", "rich.console", "rich.progress")
"""Libraries paramedic imports inside functions, imported here so that no child pays for them."""


def frozen(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(FROZEN)}


def _preload() -> None:
    import importlib
    import pkgutil

    import paramedic
    from paramedic.checks import builtin
    from paramedic.cli import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for module in dict.fromkeys(main.COMMANDS.values()):
            importlib.import_module(module)
        builtin.load()  # registers the checks in the order a run does
        for info in pkgutil.walk_packages(paramedic.__path__, "paramedic."):
            if not info.name.startswith(("paramedic.serve", "paramedic.demos", "paramedic.__")):
                importlib.import_module(info.name)
        for module in LAZY:
            importlib.import_module(module)
    if caught:
        raise RuntimeError(f"zygote: importing paramedic warned: {caught[0].message}")


class _Server:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ, "control")
        self.children: dict[int, tuple[socket.socket, int]] = {}  # pid -> (request socket, pidfd)

    def serve(self) -> tuple[dict[str, Any], list[int]]:
        """Answer requests until the control socket closes; returns only in a forked child."""
        while True:
            for key, _ in self.selector.select():
                if key.data == "control":
                    message, fds, _, _ = socket.recv_fds(self.control, 1 << 20, 4)
                    if not message:
                        self._stop()
                    child = self._fork(json.loads(message), fds)
                    if child is not None:
                        return child
                elif key.data[0] == "pidfd":
                    self._reap(key.data[1])
                else:
                    self._kill(key.data[1])

    def _fork(
        self, request: dict[str, Any], fds: list[int]
    ) -> tuple[dict[str, Any], list[int]] | None:
        pid = os.fork()
        if pid == 0:
            self.selector.close()
            self.control.close()
            for sock, pidfd in self.children.values():
                sock.close()
                os.close(pidfd)
            return request, fds
        sock = socket.socket(fileno=fds[0])
        for fd in fds[1:]:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        self.children[pid] = (sock, pidfd)
        self.selector.register(pidfd, selectors.EVENT_READ, ("pidfd", pid))
        self.selector.register(sock, selectors.EVENT_READ, ("request", pid))
        sock.send(json.dumps({"pid": pid}).encode())
        return None

    def _kill(self, pid: int) -> None:
        """The client asked (or went away): kill; the status follows when the child is reaped.
        The pid cannot have been reused, since only `_reap` waits for it."""
        if pid not in self.children:  # reaped in this same round
            return
        sock, _ = self.children[pid]
        self.selector.unregister(sock)
        with contextlib.suppress(OSError):
            sock.recv(16)  # "kill": read, since closing on unread data resets the client's end
        os.kill(pid, signal.SIGKILL)

    def _reap(self, pid: int) -> None:
        sock, pidfd = self.children.pop(pid)
        _, status = os.waitpid(pid, 0)
        self.selector.unregister(pidfd)
        os.close(pidfd)
        if sock in (k.fileobj for k in self.selector.get_map().values()):
            self.selector.unregister(sock)
        with contextlib.suppress(OSError):  # the client went away
            sock.send(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode())
        sock.close()

    def _stop(self) -> None:
        for pid in self.children:
            os.kill(pid, signal.SIGKILL)
        sys.exit(0)


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: the process `python -m paramedic ARGV` would be, up to running it."""
    os.close(fds[0])
    for target, fd in enumerate(fds[1:]):
        os.dup2(fd, target)
    for fd in set(fds[1:]):
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if request["memory"] is not None:
        resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    if request["code"] is None:
        sys.path[0] = request["cwd"]
        sys.argv = ["-m", *request["argv"]]  # runpy puts paramedic/__main__.py in argv[0]
    else:
        sys.path[0] = ""
        sys.argv = ["-c", *request["argv"]]


def _run_code(code: str) -> None:
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    exec(compile(code, "<string>", "exec"), vars(main))


def main() -> None:
    sys.path[0] = os.getcwd()  # as `python -m` has it, not this file's directory
    _preload()
    control = socket.socket(fileno=int(sys.argv[1]))
    gc.collect()
    gc.freeze()  # the imported modules stay shared with every child instead of being copied
    control.send(b"ready")
    request, fds = _Server(control).serve()
    _become(request, fds)
    code = request["code"]
    del request, fds
    if code is None:
        runpy.run_module("paramedic", run_name="__main__", alter_sys=True)
    else:
        _run_code(code)


if __name__ == "__main__":
    main()
