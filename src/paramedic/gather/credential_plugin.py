"""What a kubeconfig's exec credential plugin failed with, while the client library loads it.

A kubeconfig user may name a program that prints the credentials (`aws eks get-token`,
`gke-gcloud-auth-plugin`, `kubelogin`). When that program fails (an expired SSO session, a
plugin that is not installed, output that is not an ExecCredential), the Kubernetes client does
not raise: it logs the failure with `logging.error` and carries on without credentials. Every
request is then refused (401) or runs as the anonymous user, and the plugin's own message,
usually the one that says what to do ("run aws sso login"), is lost. kubectl stops at that
point with the plugin's message; so does paramedic, with the line caught here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator

CLIENT_MODULE = "kube_config"
"""The client library's module that runs the plugin and logs its failure."""
_NO_EXECUTABLE = re.compile(r"\[Errno 2\] No such file or directory: ('.*')")
LONGEST = 500
"""Characters of the plugin's message kept (it is one line of an error)."""


@contextlib.contextmanager
def failure() -> Iterator[list[str]]:
    """Within the block, the first plugin failure the client logs in this thread, as one line
    (the list stays empty when the plugin worked or none is configured)."""
    failed: list[str] = []
    thread = threading.get_ident()

    class Caught(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread and record.module == CLIENT_MODULE and not failed:
                failed.append(one_line(record.getMessage()))

    handler = Caught(logging.ERROR)
    root = logging.getLogger()  # the client logs through the root logger
    root.addHandler(handler)
    try:
        yield failed
    finally:
        root.removeHandler(handler)


def one_line(message: str) -> str:
    """The client's message as one line; a program that is not there said as kubectl says it."""
    text = " ".join(message.split())
    missing = _NO_EXECUTABLE.fullmatch(text)
    if missing:  # how the client logs Popen's FileNotFoundError
        text = f"executable {missing[1]} not found (is it installed, on PATH?)"
    return text[:LONGEST] or "no message"
