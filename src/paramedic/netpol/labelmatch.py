"""Kubernetes LabelSelectors as `form.LabelMatch` predicates (the NetworkPolicy and admin layers).

Other layers bring their own predicate (a Calico selector expression, a Cilium endpoint
selector) with the same four members: `key`, `keys`, `required`, `matches`, `describe`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects, selectors


@dataclasses.dataclass(frozen=True, slots=True)
class KubeSelector:
    """A validated LabelSelector (matchLabels AND matchExpressions); {} matches everything."""

    selector: Mapping[str, Any]
    key: str
    keys: frozenset[str]
    required: Mapping[str, str]

    @classmethod
    def of(cls, selector: Mapping[str, Any], key: str | None = None) -> KubeSelector:
        """`key`: the selector's canonical text when the caller has it already."""
        labels = selector.get("matchLabels") or {}
        keys = {str(k) for k in labels}
        keys.update(str(e.get("key", "")) for e in selector.get("matchExpressions") or [])
        return cls(
            selector=selector,
            key=key or json.dumps(selector, sort_keys=True, default=str),
            keys=frozenset(keys),
            required={str(k): objects.text(v) for k, v in labels.items()},
        )

    def matches(self, labels: Mapping[str, str]) -> bool:
        return selectors.matches(self.selector, labels)

    def describe(self) -> str:
        return selectors.describe(self.selector)
