"""The outcomes each probe can report (DESIGN.md §3, a contract: extend, never rename).

StrEnums, so a value compares equal to its text and is written to probes.json as that text.
"""

from __future__ import annotations

import enum


class Tcp(enum.StrEnum):
    OPEN = "open"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    RESET = "reset"
    DNS_ERROR = "dns-error"


class Dns(enum.StrEnum):
    RESOLVED = "resolved"
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"


class Postgres(enum.StrEnum):
    OK = "ok"
    AUTH_FAILED = "auth-failed"
    NO_HBA_ENTRY = "no-hba-entry"
    TOO_MANY_CONNECTIONS = "too-many-connections"
    DATABASE_MISSING = "database-missing"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    DNS_ERROR = "dns-error"
    TLS_ERROR = "tls-error"
    ERROR = "error"


BY_KIND: dict[str, type[enum.StrEnum]] = {"tcp": Tcp, "dns": Dns, "postgres": Postgres}
"""Every outcome of each probe kind."""
