"""Label selectors: matchLabels, every matchExpressions operator, kubectl -l syntax."""

from __future__ import annotations

import pytest

from paramedic import errors
from paramedic.kube import selectors

DB = {"app": "profile-db", "tier": "db"}
NO_TIER = {"app": "profile-db"}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, DB, True),
        ({}, {}, True),
        (None, DB, False),
        ({"matchLabels": {"app": "profile-db"}}, DB, True),
        ({"matchLabels": {"app": "profile-db", "tier": "db"}}, DB, True),
        ({"matchLabels": {"app": "profile-db-primary"}}, DB, False),
        ({"matchLabels": {"zone": "a"}}, DB, False),
        ({"matchLabels": {"enabled": True}}, {"enabled": "true"}, True),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db", "cache"]}]},
            DB,
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}, DB, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]},
            NO_TIER,
            False,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, DB, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}, DB, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            NO_TIER,
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, DB, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, NO_TIER, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, DB, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, NO_TIER, True),
        (
            {
                "matchLabels": {"app": "profile-db"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}],
            },
            DB,
            True,
        ),
        (
            {
                "matchLabels": {"app": "profile-db"},
                "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}],
            },
            DB,
            False,
        ),
    ],
)
def test_label_selector_semantics(selector, labels, expected):
    assert selectors.matches(selector, labels) is expected


def test_empty_selector_selects_every_object():
    assert all(selectors.matches({}, labels) for labels in ({}, DB, {"x": "y"}))


def test_unknown_operator_is_an_input_error():
    with pytest.raises(errors.InputError, match="unknown operator 'Gt'"):
        selectors.matches(
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, DB
        )


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({"app": "profile-db"}, DB, True),
        ({"app": "profile-db", "tier": "db"}, DB, True),
        ({"app": "profile-db", "tier": "cache"}, DB, False),
        ({}, DB, False),
        (None, DB, False),
    ],
)
def test_service_selector_map_is_equality_only_and_empty_selects_nothing(
    selector, labels, expected
):
    assert selectors.map_matches(selector, labels) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app=user-service", {"matchLabels": {"app": "user-service"}}),
        ("app==user-service", {"matchLabels": {"app": "user-service"}}),
        ("app = a , tier = b", {"matchLabels": {"app": "a", "tier": "b"}}),
        (
            "tier!=db",
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
        ),
        (
            "env in (prod, staging)",
            {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]}]},
        ),
        (
            "env notin (dev)",
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]},
        ),
        ("!legacy", {"matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]}),
        ("canary", {"matchExpressions": [{"key": "canary", "operator": "Exists"}]}),
        (
            "app=a,env in (x,y),!legacy",
            {
                "matchLabels": {"app": "a"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["x", "y"]},
                    {"key": "legacy", "operator": "DoesNotExist"},
                ],
            },
        ),
    ],
)
def test_parse_kubectl_selector_syntax(text, expected):
    assert selectors.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app=a,,tier=b", "empty term"),
        ("=a", "missing key"),
        ("env in prod", "expected \\(values\\)"),
    ],
)
def test_parse_rejects_malformed_selectors_with_one_line(text, message):
    with pytest.raises(errors.InputError, match=message):
        selectors.parse(text)


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        (None, "<none>"),
        ({}, "<all>"),
        ({"matchLabels": {"app": "a"}}, "app=a"),
        (
            {
                "matchExpressions": [
                    {"key": "e", "operator": "In", "values": ["x", "y"]},
                    {"key": "f", "operator": "NotIn", "values": ["z"]},
                    {"key": "g", "operator": "Exists"},
                    {"key": "h", "operator": "DoesNotExist"},
                ]
            },
            "e in (x,y),f notin (z),g,!h",
        ),
    ],
)
def test_describe_prints_kubectl_style(selector, text):
    assert selectors.describe(selector) == text


def test_parse_and_describe_round_trip():
    text = "app=a,env in (x,y),!legacy"
    assert selectors.describe(selectors.parse(text)) == text


@pytest.mark.parametrize(
    ("selector", "problems"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}]}, 0),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, 1),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, 1),
        ({"matchExpressions": [{"key": "a", "operator": "Near"}]}, 1),
    ],
)
def test_validate_reports_what_the_api_would_reject(selector, problems):
    assert len(selectors.validate(selector, where="spec.selector")) == problems
