"""Digests of credential values: comparable within one run, useless to anyone guessing.

A value becomes `hmac:<12 hex> len=<bytes>`: the first 48 bits of HMAC-SHA256 of the value
under a random key drawn once per process (per `diagnose`, `capture` or `serve` run) and stored
nowhere. Two equal values in one run (one bundle as it is captured) get the same digest, so
"the Secret changed" and "these two copies agree" stay visible; but a digest in a shared report
cannot be checked against a dictionary of likely passwords, as an unsalted hash could.

Bundles written before keyed digests carry `sha256:<12 hex> len=<bytes>` values; both forms are
digests, kept as they are and never digested again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

PREFIX = "hmac"
_KEY = secrets.token_bytes(32)
_DIGEST = re.compile(r"^(?:hmac|sha256):[0-9a-f]{12} len=\d{1,12}$")


def digest(raw: bytes) -> str:
    """`hmac:<12 hex> len=<n>` of `raw` under this run's key."""
    mac = hmac.new(_KEY, raw, hashlib.sha256).hexdigest()[:12]
    return f"{PREFIX}:{mac} len={len(raw)}"


def of_text(value: Any) -> str:
    """The digest of a text value (None counts as ''), or `value` itself when it is one."""
    if is_digest(value):
        return str(value)
    return digest(("" if value is None else str(value)).encode("utf-8"))


def is_digest(value: Any) -> bool:
    return isinstance(value, str) and bool(_DIGEST.match(value))
