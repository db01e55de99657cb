"""Whether the kubeconfig's user may do what paramedic needs (`paramedic rbac --check`).

Each permission is one SelfSubjectAccessReview: the API server's own authorizer answers, for
this user, whether it may `list networkpolicies` cluster-wide, `get` one Secret, and so on, as
`kubectl auth can-i` asks. Creating a review changes nothing in the cluster, and every
authenticated user may (the built-in `system:basic-user` role). Who the user is comes from a
SelfSubjectReview (Kubernetes 1.28+; older servers: unknown, the check still runs). The reviews
go out as waves of the gatherer's Fetcher, under its one deadline: a review not answered in
time is "unknown", never "allowed". A permission with an alternative verb (the port-forward) is
asked again with it, in a second wave, only when the first verb was denied.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from paramedic import errors, timeouts
from paramedic.gather import fetch, kubeapi
from paramedic.kube import rbac

ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
WHO_AM_I = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


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
    limits = timeouts.DEFAULT.scaled_to(timeout)
    start = time.monotonic()
    api = kubeapi.connect(
        kubeconfig=kubeconfig, context=context, pool_size=fetch.WORKERS, timeout=limits.total
    )
    fetcher = fetch.Fetcher(
        api, deadline=start + limits.total, request_timeout=limits.request, total=limits.total
    )
    try:
        who, *first = _wave(fetcher, [_who_request(), *(_request(p, p.verb) for p in permissions)])
        answers = [_answer(p, *said) for p, said in zip(permissions, first, strict=True)]
        again = [i for i, a in enumerate(answers) if a.allowed is False and a.permission.or_verb]
        alternatives = [answers[i].permission for i in again]
        second = _wave(fetcher, [_request(p, p.or_verb) for p in alternatives])
        for i, said in zip(again, second, strict=True):
            answers[i] = _answer(answers[i].permission, *said)
    finally:
        fetcher.close()
        kubeapi.close(api)
    if answers and all(a.allowed is None for a in answers):
        raise errors.KubeAccessError(
            f"the API server {api.client.configuration.host} of context {api.context} answered"
            f" no access review: {answers[0].problem}"
        )
    return Review(context=api.context, user=_user(who[0]), answers=tuple(answers))


def _request(permission: rbac.Permission, verb: str) -> fetch.Request:
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": permission.attributes_for(verb)},
    }
    return fetch.Request(what=f"review {permission.describe()}", path=ACCESS_REVIEWS, body=body)


def _who_request() -> fetch.Request:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    return fetch.Request(what="ask who the user is", path=WHO_AM_I, body=body)


def _wave(
    fetcher: fetch.Fetcher, requests: list[fetch.Request]
) -> list[tuple[kubeapi.Reply | None, str]]:
    """Each request's reply, or None and the problem the fetcher recorded for it (its gaps come
    in request order, one per failed request)."""
    before = len(fetcher.gaps)
    replies = fetcher.wave(requests)
    problems = iter(str(g).partition(": ")[2] for g in fetcher.gaps[before:])
    return [(r, "" if r is not None else next(problems, "no answer")) for r in replies]


def _answer(permission: rbac.Permission, reply: kubeapi.Reply | None, problem: str) -> Answer:
    """Allowed or denied as the review says; unknown (with its problem) without one."""
    status = (
        reply.data.get("status") if reply is not None and isinstance(reply.data, dict) else None
    )
    if isinstance(status, dict):
        return Answer(permission=permission, allowed=status.get("allowed") is True)
    return Answer(
        permission=permission,
        allowed=None,
        problem=problem or "not a review the API server would send",
    )


def _user(reply: kubeapi.Reply | None) -> str:
    status: Any = (
        reply.data.get("status") if reply is not None and isinstance(reply.data, dict) else None
    )
    info = status.get("userInfo") if isinstance(status, dict) else None
    name = info.get("username") if isinstance(info, dict) else None
    return name if isinstance(name, str) else ""
