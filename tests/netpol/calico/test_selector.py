"""The Calico selector language: truth tables from Calico's reference docs, precise errors, and
hypothesis properties against an independent reference evaluator."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzzing
from paramedic import errors
from paramedic.netpol.calico import parser, tokens

WEB = {"app": "web", "tier": "front", "env": "prod-eu"}
DB = {"app": "db", "tier": "back"}
BARE: dict[str, str] = {}


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", BARE, True),  # empty selects everything
        ("   ", WEB, True),
        ("all()", BARE, True),
        ("!all()", WEB, False),
        ("global()", WEB, True),
        ("app == 'web'", WEB, True),
        ('app == "web"', DB, False),
        ("app == 'web'", BARE, False),
        ("app != 'web'", DB, True),
        ("app != 'web'", BARE, True),  # != also matches resources without the label
        ("app != 'web'", WEB, False),
        ("has(app)", DB, True),
        ("has(app)", BARE, False),
        ("!has(app)", BARE, True),
        ("! has(app)", WEB, False),
        ("app in {'web', 'api'}", WEB, True),
        ("app in {'web', 'api'}", DB, False),
        ("app in {'web'}", BARE, False),
        ("app in {}", WEB, False),
        ("app not in {'web', 'api'}", DB, True),
        ("app not in {'web'}", BARE, True),  # not in also matches resources without it
        ("app not in {'web'}", WEB, False),
        ("app notin {'db'}", WEB, True),
        ("app in {'web',}", WEB, True),  # a trailing comma is accepted
        ("env contains 'od-e'", WEB, True),
        ("env contains 'x'", WEB, False),
        ("env contains ''", BARE, False),  # needs the label
        ("env starts with 'prod'", WEB, True),
        ("env startswith 'eu'", WEB, False),
        ("env ends with '-eu'", WEB, True),
        ("env ends   with 'prod'", WEB, False),
        ("app == 'web' && tier == 'front'", WEB, True),
        ("app == 'web' && tier == 'back'", WEB, False),
        ("app == 'db' || tier == 'front'", WEB, True),
        ("app == 'db' || tier == 'back'", WEB, False),
        ("!(app == 'web' && tier == 'front')", WEB, False),
        ("!app == 'web' && tier == 'front'", WEB, False),  # ! binds to one operation
        ("!!has(app)", WEB, True),
        ("(app == 'db' || app == 'web') && has(tier)", WEB, True),
        ("app == 'db' || app == 'web' && tier == 'back'", WEB, False),  # && before ||
        ("app == 'db' || app == 'web' && tier == 'back'", DB, True),
        ("has( app )", WEB, True),
        ("a.b/c-d_e == 'x'", {"a.b/c-d_e": "x"}, True),
        ("app == 'it\"s'", {"app": 'it"s'}, True),  # the other quote may appear inside
        ('app == "it\'s"', {"app": "it's"}, True),
        ("\tapp=='web'\t&&tier=='front'", WEB, True),
        ("has == 'x'", {"has": "x"}, True),  # has without ( is a label
        ("in == 'x'", {"in": "x"}, True),
        # the documented example: ((!has(my-label)) || ((my-label starts with 'prod') && ...))
        (
            "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}",
            {"role": "frontend"},
            True,
        ),
        (
            "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}",
            {"my-label": "prod-1", "role": "db"},
            False,
        ),
    ],
)
def test_selector_truth_table(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parser.parse(text).matches(labels) is expected


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("app = 'web'", "expected '==', found '=' alone", 5),
        ("app == web", "expected a quoted string after '=='", 8),
        ("app == 'web", "unterminated string", 8),
        ("app", "expected an operator after label 'app', found end of selector", 4),
        ("app is 'web'", "expected an operator (==, !=, in, not in", 5),
        ("app in 'web'", "expected '{' to start the set after 'in'", 8),
        ("app in {'web' 'db'}", "expected a quoted string or '}' in the set", 15),
        ("app in {web}", "expected a quoted string or '}' in the set", 9),
        ("(app == 'web'", "expected ')' to close the '(' at column 1", 14),
        ("app == 'web')", "unexpected ')' after a complete expression", 13),
        ("app == 'web' tier == 'x'", "unexpected label 'tier' after a complete expression", 14),
        ("app == 'web' &", "expected '&&', found '&' alone", 14),
        ("app == 'web' ||", "found end of selector", 16),
        ("has(app", "expected ')' to close has(", 8),
        ("has()", "expected a label, found ')'", 5),
        ("has (app)", "expected an operator after label 'has', found '('", 5),
        ("all(x)", "expected ')' right after all(", 5),
        ("global( 1)", "expected ')' right after global(", 9),
        ("|| a", "expected a label, has(), all(), global(), '!' or '(', found '||'", 1),
        ("app\n== 'x'", "expected an operator", 4),  # newlines are not blanks in Calico
        ("x" * 513 + " == 'y'", "label longer than 512 characters", 1),
        ("(" * 65 + "has(a)" + ")" * 65, "parentheses nested deeper than 64 levels", 65),
        ("app == 'web' && {", "expected a label, has(), all(), global(), '!' or '('", 17),
    ],
)
def test_selector_errors_name_the_problem_and_its_column(
    text: str, message: str, column: int
) -> None:
    with pytest.raises(tokens.SelectorError) as caught:
        parser.parse(text)
    assert message in str(caught.value)
    assert caught.value.column == column
    assert str(caught.value).endswith(f"at column {column}")
    assert "\n" not in str(caught.value)


def test_selector_error_is_an_input_error() -> None:
    with pytest.raises(errors.InputError):
        parser.parse("app ==")


def test_long_flat_selectors_parse_without_recursion() -> None:
    text = " || ".join(f"app == 'v{i}'" for i in range(5000))
    parsed = parser.parse(text)
    assert parsed.matches({"app": "v4999"})
    assert not parsed.matches({"app": "v5000"})
    assert parser.parse("!" * 10001 + "has(a)").matches({})  # an odd number of !: negated


# --- properties against an independent reference --------------------------------------------

KEYS = ("app", "tier", "x.io/role")
VALUES = ("web", "db", "", "we", "b")

Tree = tuple[Any, ...]


def _leaf() -> st.SearchStrategy[Tree]:
    key, value = st.sampled_from(KEYS), st.sampled_from(VALUES)
    values = st.frozensets(value, max_size=3)
    return st.one_of(
        st.just(("all",)),
        st.tuples(st.just("has"), key),
        st.tuples(
            st.sampled_from(("==", "!=", "contains", "starts with", "ends with")), key, value
        ),
        st.tuples(st.sampled_from(("in", "not in")), key, values),
    )


trees = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.tuples(st.just("!"), inner),
        st.tuples(st.sampled_from(("&&", "||")), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)
label_maps = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)


def _reference(tree: Tree, labels: dict[str, str]) -> bool:
    """Calico's documented meaning, written independently of the implementation."""
    op = tree[0]
    if op == "all":
        return True
    if op == "has":
        return tree[1] in labels
    if op == "!":
        return not _reference(tree[1], labels)
    if op == "&&":
        return all(_reference(t, labels) for t in tree[1])
    if op == "||":
        return any(_reference(t, labels) for t in tree[1])
    key, value = tree[1], tree[2]
    if key not in labels:
        return op in ("!=", "not in")
    actual = labels[key]
    return {
        "==": lambda: actual == value,
        "!=": lambda: actual != value,
        "contains": lambda: value in actual,
        "starts with": lambda: actual.startswith(value),
        "ends with": lambda: actual.endswith(value),
        "in": lambda: actual in value,
        "not in": lambda: actual not in value,
    }[op]()


def _render(tree: Tree, quote: str) -> str:
    """Text for `tree`, every compound parenthesised (so precedence never decides)."""
    op = tree[0]
    if op == "all":
        return "all()"
    if op == "has":
        return f"has({tree[1]})"
    if op == "!":
        return f"!({_render(tree[1], quote)})"
    if op in ("&&", "||"):
        return "(" + f" {op} ".join(_render(t, quote) for t in tree[1]) + ")"
    if op in ("in", "not in"):
        items = ",".join(f"{quote}{v}{quote}" for v in sorted(tree[2]))
        return f"{tree[1]} {op} {{{items}}}"
    return f"{tree[1]} {op} {quote}{tree[2]}{quote}"


@fuzzing.depth(300)
@given(tree=trees, labels=label_maps, quote=st.sampled_from(("'", '"')))
def test_evaluation_agrees_with_the_documented_meaning(
    tree: Tree, labels: dict[str, str], quote: str
) -> None:
    assert parser.parse(_render(tree, quote)).matches(labels) is _reference(tree, labels)


@fuzzing.depth(300)
@given(tree=trees, labels=label_maps)
def test_canonical_text_parses_back_to_the_same_meaning(tree: Tree, labels: dict[str, str]) -> None:
    parsed = parser.parse(_render(tree, "'"))
    again = parser.parse(parsed.text)
    assert again.text == parsed.text
    assert again.matches(labels) is parsed.matches(labels)


@fuzzing.depth(200)
@given(tree=trees, labels=label_maps)
def test_negation_and_negated_operators_are_complements(tree: Tree, labels: dict[str, str]) -> None:
    text = _render(tree, "'")
    assert parser.parse(f"!({text})").matches(labels) is not parser.parse(text).matches(labels)


@fuzzing.depth(1000)
@given(text=st.text(alphabet="ab=!&|(){}'\", \tinotcashl", max_size=40))
def test_any_text_parses_or_fails_with_a_selector_error(text: str) -> None:
    try:
        parser.parse(text)
    except tokens.SelectorError as exc:
        assert 1 <= exc.column <= len(text) + 1
