"""`-o json`: the versioned diagnosis document (DESIGN.md §4), plus the headline's one line."""

from __future__ import annotations

import json

from paramedic.reports import outline, safe
from paramedic.runbooks import diagnosis


def render(result: diagnosis.Diagnosis) -> str:
    doc = result.as_dict()
    doc["summary"] = outline.build(result).headline.summary
    return safe.json_document(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
