"""Running a conformance set (a bundle and its expected flows) through `paramedic netpol assert`
as a user would, for the Calico, Cilium and Istio sets alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clirun import run


def assert_flows(
    capsys: pytest.CaptureFixture[str], bundle: Path, expectations: Path, cni: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """(exit status, one result per expected flow) of `netpol assert -o json`."""
    argv = ["netpol", "assert", str(bundle), str(expectations), "-o", "json"]
    code, out, _ = run(capsys, *argv, *(["--cni", cni] if cni else []))
    return code, json.loads(out)["results"]


def failing(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if not r["ok"]]
