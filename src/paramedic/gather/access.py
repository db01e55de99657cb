"""Whether the kubeconfig's user may do what paramedic needs (`paramedic rbac --check`).

Each permission is one SelfSubjectAccessReview: the API server's own authorizer answers, for
this user, whether it may `list networkpolicies` cluster-wide, `get` one Secret, and so on, as
`kubectl auth can-i` asks. Creating a review changes nothing in the cluster, and every
authenticated user may (the built-in `system:basic-user` role). Who the user is comes from a
SelfSubjectReview (Kubernetes 1.28+; older servers: unknown, the check still runs). The reviews
go out in parallel under one deadline; one not answered in time is "unknown", never "allowed".
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from typing import TypeVar

from paramedic import errors
from paramedic.gather import kubeapi
from paramedic.kube import rbac

ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
WHO_AM_I = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
WORKERS = 16
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    permission: rbac.Permission
    allowed: bool | None
    """None: the server did not say (no answer in time, an error)."""
    problem: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Review:
    context: str
    user: str
    """As the API server authenticated it; '' when it could not say."""
    answers: tuple[Answer, ...]


def review(
    permissions: tuple[rbac.Permission, ...],
    *,
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
) -> Review:
    """Ask the API server, for the current user, about each of `permissions`."""
    deadline = time.monotonic() + timeout
    api = kubeapi.connect(
        kubeconfig=kubeconfig, context=context, pool_size=WORKERS, timeout=timeout
    )
    pool = concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="paramedic-review")
    try:
        who = pool.submit(_who, api, deadline)
        asked = [pool.submit(_ask, api, p, deadline) for p in permissions]
        answers = [
            _within(future, deadline, Answer(permission=p, allowed=None, problem="no answer"))
            for future, p in zip(asked, permissions, strict=True)
        ]
        user = _within(who, deadline, "")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        kubeapi.close(api)
    if answers and all(a.allowed is None for a in answers):
        raise errors.KubeAccessError(
            f"the API server {api.client.configuration.host} of context {api.context} answered"
            f" no access review: {answers[0].problem}"
        )
    return Review(context=api.context, user=user, answers=tuple(answers))


def _within(future: concurrent.futures.Future[T], deadline: float, otherwise: T) -> T:
    try:
        return future.result(timeout=max(deadline - time.monotonic(), 0))
    except concurrent.futures.TimeoutError:
        return otherwise


def _ask(api: kubeapi.Api, permission: rbac.Permission, deadline: float) -> Answer:
    """Allowed if any of its verbs is; denied only if every one is; else unknown."""
    problems = []
    for verb in filter(None, (permission.verb, permission.or_verb)):
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": permission.attributes_for(verb)},
        }
        reply = api.call("POST", ACCESS_REVIEWS, body=body, timeout=deadline - time.monotonic())
        status = reply.data.get("status") if isinstance(reply.data, dict) else None
        if not reply.ok or not isinstance(status, dict):
            problems.append(reply.problem or "not a review the API server would send")
        elif status.get("allowed") is True:
            return Answer(permission=permission, allowed=True)
    if problems:
        return Answer(permission=permission, allowed=None, problem=problems[0])
    return Answer(permission=permission, allowed=False)


def _who(api: kubeapi.Api, deadline: float) -> str:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    reply = api.call("POST", WHO_AM_I, body=body, timeout=deadline - time.monotonic())
    status = reply.data.get("status") if reply.ok and isinstance(reply.data, dict) else None
    info = status.get("userInfo") if isinstance(status, dict) else None
    name = info.get("username") if isinstance(info, dict) else None
    return name if isinstance(name, str) else ""
