"""The Alertmanager webhook payload (version 4), validated at the boundary.

Alertmanager POSTs one JSON object per notification of an alert group:

    {"version": "4", "status": "firing"|"resolved", "receiver", "groupKey", "groupLabels",
     "commonLabels", "commonAnnotations", "externalURL", "truncatedAlerts",
     "alerts": [{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                 "fingerprint"}, ...]}

Only the fields paramedic uses are required; unknown fields are kept out of the way (a newer
Alertmanager may add some). A payload that does not fit is an InputError with one line that
names the field, which the webhook answers with 400.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pydantic

from paramedic import errors
from paramedic.serve import routes

VERSION = "4"


class Alert(pydantic.BaseModel):
    """One alert of the group, as Alertmanager sends it."""

    model_config = pydantic.ConfigDict(frozen=True, extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: str = ""
    endsAt: str = ""
    generatorURL: str = ""
    fingerprint: str = pydantic.Field(min_length=1, max_length=128)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class Payload(pydantic.BaseModel):
    """One webhook notification."""

    model_config = pydantic.ConfigDict(frozen=True, extra="ignore")

    version: str
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""
    externalURL: str = ""
    alerts: list[Alert] = pydantic.Field(max_length=1000)


def parse(body: bytes) -> Payload:
    """The payload of one webhook request; InputError (one line) when it is not version 4."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise errors.InputError(f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise errors.InputError("body must be a JSON object (an Alertmanager webhook payload)")
    version = document.get("version")
    if version != VERSION:
        raise errors.InputError(
            f"payload version {version!r} is not supported: Alertmanager webhook version"
            f" {VERSION} expected"
        )
    try:
        return Payload.model_validate(document)
    except pydantic.ValidationError as exc:
        raise errors.InputError(f"payload field {routes.first_problem(exc)}") from exc
