"""Fixes in Calico's terms: a lower-order policy in the deciding tier, or an Allow rule before
the Deny; each opens the flow (checked on the patched evidence) with its blast radius."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from paramedic.evidence import model as evidence_model
from paramedic.netpol import engine, model, patch, peers
from paramedic.netpol.calico import fix

from . import build as b

WEB = b.pod("app", "web", "10.0.1.1", {"app": "web"})
WEB2 = b.pod("app", "web-2", "10.0.1.3", {"app": "web"})
API = b.pod("app", "api", "10.0.1.2", {"app": "api"})
DB = b.pod("data", "db", "10.0.2.1", {"app": "db"}, ports=[("pg", 5432, "TCP")])
SECURITY = b.tier("security", 100)
DENY_DB = b.gnp(
    "security.deny-db",
    tier="security",
    order=100,
    selector="app == 'db'",
    ingress=[
        {"action": "Pass", "source": {"selector": "app == 'admin'"}},
        {"action": "Deny", "protocol": "TCP", "destination": {"ports": [5432]}},
    ],
)
EGRESS_GUARD = b.gnp(
    "security.guard",
    tier="security",
    order=5,
    selector="app == 'web'",
    types=["Egress"],
    egress=[{"action": "Allow", "destination": {"nets": ["192.0.2.0/24"]}}],
)


def _evidence(*found: dict[str, Any]) -> evidence_model.Evidence:
    return evidence_model.Evidence.of(
        [b.namespace("app"), b.namespace("data"), WEB, WEB2, API, DB, *found]
    )


def _patch(evidence: evidence_model.Evidence, src: dict[str, Any]) -> patch.Patch:
    a, d = peers.Peer.pod(src), peers.Peer.pod(DB)
    result = engine.check_flow(evidence, a, d, 5432, "TCP", model.CALICO)
    assert not result.allowed
    return patch.minimal_patch(evidence, result, a, d, 5432, "TCP", model.CALICO)


def test_a_deny_rule_is_fixed_by_a_lower_order_policy_in_the_same_tier() -> None:
    evidence = _evidence(SECURITY, DENY_DB)
    fixed = _patch(evidence, WEB)
    assert fixed.opens_flow
    (created,) = fixed.objects
    assert created["apiVersion"] == "projectcalico.org/v3"
    assert created["kind"] == "NetworkPolicy" and created["metadata"]["namespace"] == "data"
    assert created["spec"]["tier"] == "security" and created["spec"]["order"] == 99
    assert created["spec"]["selector"] == 'app == "db"'
    (rule,) = created["spec"]["ingress"]
    assert rule["source"] == {
        "selector": 'app == "web"',
        "namespaceSelector": 'projectcalico.org/name == "app"',
    }
    assert rule["destination"] == {"ports": ["pg"]}
    # exactly the web pods -> db, nothing else (api stays denied)
    opened = {(f.src, f.dst) for f in fixed.blast_radius}
    assert opened == {("app/web", "data/db"), ("app/web-2", "data/db")}


def test_the_in_place_alternative_inserts_the_allow_before_the_deny() -> None:
    evidence = _evidence(SECURITY, DENY_DB)
    fixed = _patch(evidence, WEB)
    (alternative,) = fixed.in_place
    assert alternative.target == "GlobalNetworkPolicy security.deny-db"
    assert alternative.patch[0]["path"] == "/spec/ingress/1"
    assert alternative.opened == 2
    kubectl, _, calicoctl = alternative.command.partition("  # without the Calico API server: ")
    words = shlex.split(kubectl)
    assert words[:4] == ["kubectl", "patch", "globalnetworkpolicies.projectcalico.org",
                         "security.deny-db"]  # fmt: skip
    assert json.loads(words[-1]) == [dict(alternative.patch[0])]
    words = shlex.split(calicoctl)
    assert words[:3] == ["calicoctl", "patch", "globalnetworkpolicy"]
    rules = json.loads(words[-1])["spec"]["ingress"]
    assert [r["action"] for r in rules] == ["Pass", "Allow", "Deny"]


def test_the_end_of_a_tier_is_fixed_in_that_tier() -> None:
    only_api = b.gnp(
        "security.only-api",
        tier="security",
        order=10,
        selector="app == 'db'",
        ingress=[{"action": "Allow", "source": {"selector": "app == 'api'"}}],
    )
    fixed = _patch(_evidence(SECURITY, only_api), WEB)
    assert fixed.opens_flow
    assert fixed.objects[0]["spec"]["tier"] == "security"
    assert fixed.in_place[0].patch[0]["path"] == "/spec/ingress/1"  # appended after rule 0


def test_an_egress_deny_is_fixed_on_the_source_side() -> None:
    fixed = _patch(_evidence(SECURITY, EGRESS_GUARD), WEB)
    assert fixed.opens_flow
    (created,) = fixed.objects
    assert created["metadata"]["namespace"] == "app"
    assert created["spec"]["types"] == ["Egress"] and created["spec"]["order"] == 4
    (rule,) = created["spec"]["egress"]
    assert rule["destination"]["selector"] == 'app == "db"'
    assert "source" not in rule


def test_a_default_tier_calico_deny_before_the_kubernetes_policies() -> None:
    early = b.np("data", "early", order=500, selector="all()", ingress=[{"action": "Deny"}])
    fixed = _patch(_evidence(early), WEB)
    assert fixed.opens_flow
    assert fixed.objects[0]["spec"]["order"] == 499
    assert fixed.objects[0]["metadata"]["name"] == "allow-web-to-db-5432"


def test_the_end_of_the_default_tier_keeps_the_networkpolicy_fix() -> None:
    allow_api = [{"action": "Allow", "source": {"selector": "app == 'api'"}}]
    only_api = b.np("data", "only-api", selector="app == 'db'", ingress=allow_api)
    fixed = _patch(_evidence(only_api), WEB)
    assert fixed.opens_flow
    assert fixed.objects[0]["apiVersion"] == "networking.k8s.io/v1"


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        ({}, "all()"),
        ({"matchLabels": {"app": "web", "tier": "x"}}, 'app == "web" && tier == "x"'),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]},
                                  {"key": "b", "operator": "DoesNotExist"}]},
            'a in {"1", "2"} && !has(b)',
        ),
    ],
)  # fmt: skip
def test_kubernetes_selectors_are_written_as_calico_selectors(
    selector: dict[str, Any], text: str
) -> None:
    assert fix.selector_text(selector) == text


def test_undo_and_calicoctl_commands_name_the_calico_resource() -> None:
    evidence = _evidence(SECURITY, DENY_DB)
    created = _patch(evidence, WEB).objects[0]
    create, delete = fix.commands(created, evidence)
    assert "calicoctl apply -f -" in create
    name = created["metadata"]["name"]
    assert delete.startswith(f"kubectl -n data delete networkpolicies.projectcalico.org {name}")
    assert f"calicoctl delete networkpolicy {name} -n data" in delete
