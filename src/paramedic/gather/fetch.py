"""Run API requests in parallel under one overall deadline, turning every failure into a gap.

A wave is a list of `Request`s with no order between them; the gatherer runs waves one after
another because each needs what the previous one found (a workload, then its pods, then their
Secrets and logs). Every request gets `min(request timeout, time left)`; whatever has not
answered when the deadline passes is abandoned and recorded as a gap, never waited for.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paramedic.evidence import model
from paramedic.gather import bounded_read, kubeapi

WORKERS = 16


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One read (or a POST that only asks, as an access review): `what` names it in gap lines
    ("list networkpolicies in data")."""

    what: str
    path: str
    body: Mapping[str, Any] | None = None
    """Sent as a POST when set (a review that creates nothing), else a GET."""
    query: tuple[tuple[str, str], ...] = ()
    raw: bool = False
    """True for pod logs (plain text)."""
    missing_ok: bool = False
    """A 404 is an answer (the object does not exist), not a gap."""
    limit: int = bounded_read.MAX_BODY_BYTES
    """Most bytes of the answer read (a log's limitBytes; the API may not honour it)."""
    kind: str = ""
    """The kind the request reads ('NetworkPolicy', 'logs'), for its gap; '' when none."""
    namespace: str = ""
    """The namespace it reads ('' cluster-wide), for its gap."""

    def gap(self, problem: str) -> model.Gap:
        return model.Gap(self.kind, self.namespace, f"cannot {self.what}: {problem}")


class Fetcher:
    """Runs waves of requests against one `kubeapi.Api` until `deadline` (time.monotonic())."""

    def __init__(
        self,
        api: kubeapi.Api,
        *,
        deadline: float,
        request_timeout: float,
        total: float,
        on_progress: Callable[[str, int], None] | None = None,
    ) -> None:
        self.api = api
        self.deadline = deadline
        self.request_timeout = request_timeout
        self.total = total
        self.gaps: list[model.Gap | str] = []
        self.answered = 0
        """Requests the server answered at all (any HTTP status): 0 means it is unreachable."""
        self.unauthorized = 0
        """Answered requests that got 401: all of them means the credentials were rejected."""
        self.reads = 0
        """Answered reads of objects or logs: every request but API discovery, which any
        authenticated user may make."""
        self.refusals: list[str] = []
        """The problem of each read answered 403: one per read means the user may read nothing
        (no role is bound to it)."""
        self.first_problem = ""
        self._on_progress = on_progress
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=WORKERS, thread_name_prefix="paramedic-api"
        )

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def wave(self, requests: Sequence[Request]) -> list[kubeapi.Reply | None]:
        """Replies in request order; None where the request failed (and a gap was recorded)."""
        if not requests:
            return []
        if self._on_progress:
            self._on_progress("", len(requests))
        futures = {}
        for i, req in enumerate(requests):
            if self.left() <= 0:
                break
            futures[self._pool.submit(self._call, req)] = i
        replies: list[kubeapi.Reply | None] = [None] * len(requests)
        problems: dict[int, str] = {}
        """What each answered request that failed said: its gap, recorded in request order
        below, so two runs over the same cluster list the same gaps in the same order."""
        try:
            for future in concurrent.futures.as_completed(futures, timeout=max(self.left(), 0)):
                i = futures[future]
                replies[i], problems[i] = self._judge(requests[i], future.result())
                if self._on_progress:
                    self._on_progress(requests[i].what, 0)
        except concurrent.futures.TimeoutError:
            pass
        for i, req in enumerate(requests):
            problem = problems.get(i, f"no answer within --timeout {self.total:g} s")
            if problem:
                self.gaps.append(req.gap(problem))
        for future in futures:
            future.cancel()
        return replies

    def call(self, req: Request) -> kubeapi.Reply | None:
        """One request outside a wave (probe pod life cycle); same deadline and gap rules."""
        return self.wave([req])[0]

    def write(self, method: str, path: str, *, body: dict[str, Any] | None = None) -> kubeapi.Reply:
        """A create/delete for --probe-pod: the caller decides what a failure means."""
        return self.api.call(method, path, body=body, timeout=self.request_timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _call(self, req: Request) -> kubeapi.Reply:
        timeout = min(self.request_timeout, max(self.left(), 0.05))
        return self.api.call(
            "GET" if req.body is None else "POST",
            req.path,
            query=req.query,
            body=req.body,
            timeout=timeout,
            raw=req.raw,
            limit=req.limit,
        )

    def _judge(self, req: Request, reply: kubeapi.Reply) -> tuple[kubeapi.Reply | None, str]:
        """The reply to use, or None and the problem its gap names."""
        if reply.status:
            self.answered += 1
            self.unauthorized += reply.status == 401
            self.reads += bool(req.kind)
            if req.kind and reply.status == 403:
                self.refusals.append(reply.problem)
        self.first_problem = self.first_problem or reply.problem
        if reply.ok or (reply.not_found and req.missing_ok):
            return reply, ""
        return None, reply.problem or "failed"


def items(reply: kubeapi.Reply | None, *, kind: str, api_version: str) -> list[dict[str, Any]]:
    """The objects of a list answer, each with kind/apiVersion (the API leaves them off items)."""
    if reply is None or not reply.ok or not isinstance(reply.data, dict):
        return []
    found = []
    for item in reply.data.get("items") or []:
        if isinstance(item, dict):
            found.append({"apiVersion": api_version, "kind": kind, **item})
    return found


def obj(reply: kubeapi.Reply | None) -> dict[str, Any] | None:
    """The object of a get answer; None for not found or a failed call."""
    if (
        reply is None
        or not reply.ok
        or not isinstance(reply.data, dict)
        or not reply.data.get("kind")
    ):
        return None
    return dict(reply.data)
