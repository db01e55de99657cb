"""Creating and removing the objects of a fix (`diagnose --apply`): the one module that
changes a cluster's configuration on the user's behalf, and only what runbooks.remedy planned.

Each object is first created as a server-side dry run (`dryRun=All`): the API server runs its
validation and admission (RBAC included) and stores nothing, so a fix the cluster would refuse
is refused before anything changes. Then each is created for real, with the field manager
`paramedic`; if one of them fails, the ones already created are deleted again, so a fix is
applied whole or not at all. `remove` is the rollback: it deletes exactly the object that was
created (a uid precondition), never one of the same name made since by someone else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic import errors
from paramedic.gather import kubeapi, table

FIELD_MANAGER = "paramedic"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    kind: str
    namespace: str
    name: str
    uid: str

    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def dry_run(api: kubeapi.Api, objects: Sequence[Mapping[str, Any]], timeout: float) -> None:
    """Raise KubeAccessError with the API server's one line if it would refuse any object."""
    for obj in objects:
        reply = _post(api, obj, timeout, dry=True)
        if not reply.ok:
            raise errors.KubeAccessError(
                f"the API server refused a dry run of {_ref(obj)}: {_said(reply)}; nothing changed"
            )


def create(
    api: kubeapi.Api, objects: Sequence[Mapping[str, Any]], timeout: float
) -> tuple[Created, ...]:
    """Create every object, or none: on a failure those already created are removed again."""
    made: list[Created] = []
    for obj in objects:
        reply = _post(api, obj, timeout, dry=False)
        meta = reply.data.get("metadata") if isinstance(reply.data, dict) else None
        uid = meta.get("uid") if isinstance(meta, dict) else None
        if not reply.ok or not isinstance(uid, str):
            undone = remove(api, made, timeout)
            raise errors.KubeAccessError(
                f"creating {_ref(obj)} failed: {_said(reply)}"
                + (f"; removed again: {', '.join(c.ref() for c in made)}" if made else "")
                + (f"; could not remove: {'; '.join(undone)}" if undone else "")
            )
        made.append(_created(obj, uid))
    return tuple(made)


def remove(api: kubeapi.Api, created: Sequence[Created], timeout: float) -> list[str]:
    """Delete what `create` made (newest first); the problems, one line each (none: all gone)."""
    problems = []
    for item in reversed(created):
        prefix, plural = table.RESOURCES[item.kind]
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": item.uid},
        }
        reply = api.call(
            "DELETE",
            f"{prefix}/namespaces/{item.namespace}/{plural}/{item.name}",
            body=body,
            timeout=timeout,
        )
        if not reply.ok and not reply.not_found:
            problems.append(f"{item.ref()}: {_said(reply)}")
    return problems


def _post(api: kubeapi.Api, obj: Mapping[str, Any], timeout: float, *, dry: bool) -> kubeapi.Reply:
    prefix, plural = table.RESOURCES[str(obj["kind"])]
    query = [("fieldManager", FIELD_MANAGER)] + ([("dryRun", "All")] if dry else [])
    namespace = obj["metadata"]["namespace"]
    return api.call(
        "POST", f"{prefix}/namespaces/{namespace}/{plural}", query=query, body=obj, timeout=timeout
    )


def _said(reply: kubeapi.Reply) -> str:
    """The API server's own message (admission, RBAC, AlreadyExists) when it sent one."""
    return kubeapi.status_message(reply.text)[:300] or reply.problem or "failed"


def _ref(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']} {meta['namespace']}/{meta['name']}"


def _created(obj: Mapping[str, Any], uid: str) -> Created:
    meta = obj["metadata"]
    return Created(kind=str(obj["kind"]), namespace=meta["namespace"], name=meta["name"], uid=uid)
