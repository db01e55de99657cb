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


def load() -> dict[str, str]:
    """Import every built-in check module; return {module: why} for those that failed to import.

    A broken check module must not take the whole diagnosis down: its checks are then reported
    as not available, and the reason is shown, while every other check still runs.
    """
    broken = {}
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:
            broken[name] = f"{type(exc).__name__}: {exc}"
    return broken
