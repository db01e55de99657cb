"""Label selectors: matchLabels and every matchExpressions operator, as the API defines them.

An empty selector ({}) selects everything; a missing (None) selector selects nothing where the
API says so (Service without selector) - callers decide which applies. NotIn and DoesNotExist
match objects that lack the key, In and Exists do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic import errors
from paramedic.kube import objects

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector ({matchLabels, matchExpressions}) selects `labels`."""
    if selector is None:
        return False
    match_labels = selector.get("matchLabels")
    for key, value in (match_labels if isinstance(match_labels, dict) else {}).items():
        if labels.get(str(key)) != objects.text(value):
            return False
    exprs = selector.get("matchExpressions")
    for expr in exprs if isinstance(exprs, list) else []:
        if not isinstance(expr, dict):
            raise errors.InputError(
                f"label selector: matchExpressions entry {expr!r} is not a mapping"
            )
        if not expression_matches(expr, labels):
            return False
    return True


def expression_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = str(expr.get("key", ""))
    operator = expr.get("operator")
    values = {objects.text(v) for v in objects.as_list(expr.get("values"))}
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    raise errors.InputError(f"label selector: unknown operator {operator!r} for key {key!r}")


def map_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether an equality-only selector map (Service.spec.selector) selects `labels`.

    An empty or missing map selects nothing (a Service without selector has manual endpoints).
    """
    if not selector or not isinstance(selector, Mapping):
        return False
    return all(labels.get(str(k)) == objects.text(v) for k, v in selector.items())


def validate(selector: Mapping[str, Any], *, where: str) -> list[str]:
    """Problems that API validation would reject in a LabelSelector (empty when valid)."""
    problems = []
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        operator = expr.get("operator")
        values = expr.get("values") or []
        if operator not in OPERATORS:
            problems.append(f"{where}.matchExpressions[{i}]: unknown operator {operator!r}")
        elif operator in ("In", "NotIn") and not values:
            problems.append(f"{where}.matchExpressions[{i}]: {operator} needs values")
        elif operator in ("Exists", "DoesNotExist") and values:
            problems.append(f"{where}.matchExpressions[{i}]: {operator} takes no values")
    return problems


def parse(text: str) -> dict[str, Any]:
    """A LabelSelector from kubectl's `-l` syntax: 'app=a,tier!=db,env in (x,y),!legacy'."""
    match_labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    for term in _split_terms(text):
        term = term.strip()
        if not term:
            raise errors.InputError(f"label selector {text!r}: empty term")
        lowered = term.replace("\t", " ")
        if " notin " in lowered or " in " in lowered:
            key, op, rest = _split_set_term(lowered, text)
            exprs.append({"key": key, "operator": op, "values": rest})
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            exprs.append({"key": key, "operator": "NotIn", "values": [value]})
        elif "==" in term or "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if not key:
                raise errors.InputError(f"label selector {text!r}: missing key in {term!r}")
            match_labels[key] = value
        elif term.startswith("!"):
            exprs.append({"key": term[1:].strip(), "operator": "DoesNotExist"})
        else:
            exprs.append({"key": term, "operator": "Exists"})
    selector: dict[str, Any] = {}
    if match_labels:
        selector["matchLabels"] = match_labels
    if exprs:
        selector["matchExpressions"] = exprs
    return selector


def describe(selector: Mapping[str, Any] | None) -> str:
    """kubectl-style text of a selector: 'app=profile-db,tier in (db)'; '<all>' when empty."""
    if selector is None:
        return "<none>"
    labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    parts = [
        f"{k}={objects.text(v)}" for k, v in (labels if isinstance(labels, dict) else {}).items()
    ]
    for expr in exprs if isinstance(exprs, list) else []:
        if not isinstance(expr, dict):
            continue
        op, key = expr.get("operator"), expr.get("key")
        values = ",".join(objects.text(v) for v in objects.as_list(expr.get("values")))
        parts.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": f"{key}",
                "DoesNotExist": f"!{key}",
            }.get(str(op), f"{key} {op}")
        )
    return ",".join(parts) if parts else "<all>"


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return terms


def _split_set_term(term: str, text: str) -> tuple[str, str, list[str]]:
    op = "NotIn" if " notin " in term else "In"
    key, rest = term.split(" notin " if op == "NotIn" else " in ", 1)
    rest = rest.strip()
    if not (rest.startswith("(") and rest.endswith(")")):
        raise errors.InputError(f"label selector {text!r}: expected (values) after {op.lower()}")
    values = [v.strip() for v in rest[1:-1].split(",") if v.strip()]
    return key.strip(), op, values
