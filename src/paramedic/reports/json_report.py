"""`-o json`: the versioned diagnosis document (DESIGN.md §4)."""

from __future__ import annotations

import json

from paramedic.runbooks import diagnosis


def render(result: diagnosis.Diagnosis) -> str:
    return json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n"
