"""The built-in checks, listed explicitly: importing this module registers them all.

A check module that is not listed here does not exist for the runbooks.
"""

from __future__ import annotations

import importlib

MODULES = (
    "paramedic.checks.service_endpoints",
    "paramedic.checks.credentials",
    "paramedic.checks.resources",
    "paramedic.checks.network_policy",
    "paramedic.checks.dns",
    "paramedic.checks.connection_pool",
    "paramedic.checks.firewall",
    "paramedic.checks.readiness_probe",
)


def load() -> list[str]:
    """Import every built-in check module; return the names of those not available yet."""
    missing = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            missing.append(name)
    return missing
