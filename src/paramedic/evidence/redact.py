"""Secret values never enter paramedic: every Secret is reduced to key names and digests.

A value becomes "sha256:<12 hex> len=<bytes>", the digest of the decoded value, so a rotated
Secret remains visible (its digest changes) and two copies of one credential can be compared,
but nothing that could be used as the credential is ever kept, printed or written.
This runs where Secrets enter: the bundle loader and the live gatherer. Log lines get the same
treatment for the credentials applications and PostgreSQL write into them (`log_line`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
from typing import Any

from paramedic.evidence import logscan

_DIGEST = re.compile(r"^sha256:[0-9a-f]{12} len=\d+$")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def is_digest(value: Any) -> bool:
    return isinstance(value, str) and bool(_DIGEST.match(value))


def digest(raw: bytes) -> str:
    return f"sha256:{hashlib.sha256(raw).hexdigest()[:12]} len={len(raw)}"


def _digest_data_value(value: Any) -> str:
    if is_digest(value):
        return str(value)
    text = "" if value is None else str(value)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = text.encode("utf-8")
    return digest(raw)


def secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Secret with every value replaced by its digest (idempotent)."""
    out = copy.copy(obj)
    data = obj.get("data")
    if isinstance(data, dict):
        out["data"] = {str(k): _digest_data_value(v) for k, v in data.items()}
    string_data = obj.get("stringData")
    if isinstance(string_data, dict):
        out["stringData"] = {
            str(k): v if is_digest(v) else digest(("" if v is None else str(v)).encode("utf-8"))
            for k, v in string_data.items()
        }
    meta = obj.get("metadata")
    if (
        isinstance(meta, dict)
        and isinstance(meta.get("annotations"), dict)
        and _LAST_APPLIED in meta["annotations"]
    ):
        out["metadata"] = {
            **meta,
            "annotations": {k: v for k, v in meta["annotations"].items() if k != _LAST_APPLIED},
        }
    return out


def entering(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as it may enter Evidence: a Secret redacted, any other object untouched (the `data`
    of a ConfigMap, a Corefile say, is evidence and is kept)."""
    return secret(obj) if obj.get("kind") == "Secret" else obj


def objects(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`items` with every Secret redacted; other objects are passed through untouched."""
    return [entering(o) for o in items]


# Credentials that applications and PostgreSQL write into log lines: a rotation logged with
# log_statement=ddl (`ALTER ROLE x PASSWORD '...'`), a DSN with user:password@, key=value pairs.
# RE2 syntax (`evidence.logscan`): linear time on any line, flags inline.
_LOG_SECRETS = (
    (r"(?i)(\bPASSWORD\s+)(?:'(?:[^']|'')*'|\"[^\"]*\")", r"\1'***'"),
    (r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@"),
    (
        r"(?i)(\b(?:PGPASSWORD|[A-Z_]*PASSWORD|password|passwd|pwd|secret|token)\b[\"']?\s*[=:]\s*)"
        r"(?:\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
        r"\1***",
    ),
)
_MASKS = tuple((logscan.compile(pattern), replacement) for pattern, replacement in _LOG_SECRETS)
_ANY_SECRET = logscan.PatternSet([pattern for pattern, _ in _LOG_SECRETS], ignore_case=False)


def log_line(line: str) -> str:
    """`line` with credentials masked; everything else, error texts included, unchanged."""
    for pattern, replacement in _MASKS:
        line = pattern.sub(replacement, line)
    return line


def log_lines(lines: list[str]) -> tuple[str, ...]:
    """`lines` with credentials masked: one linear-time search finds the lines that hold any,
    and only those are rewritten."""
    out = list(lines)
    for i in _ANY_SECRET.lines_hit(out):
        out[i] = log_line(out[i])
    return tuple(out)


def log_text(text: str) -> tuple[str, ...]:
    """A container log as it enters the evidence: its lines, each capped at
    `logscan.MAX_LINE_CHARS`, credentials masked."""
    return log_lines(logscan.lines(text))
