"""Calico's verdict per direction: a truth table from Calico's reference docs (tiers, orders,
Pass, end-of-tier, profiles, selectors and their scopes, nets, sets, ports, protocols)."""

from __future__ import annotations

from typing import Any

import pytest

from paramedic.netpol import model

from . import build as b

IN, OUT = model.Direction.INGRESS, model.Direction.EGRESS
WEB = b.pod("app", "web", "10.0.1.1", {"app": "web"}, "frontend", [("http", 8080, "TCP")])
API = b.pod("app", "api", "10.0.1.2", {"app": "api"})
DB = b.pod("data", "db", "10.0.2.1", {"app": "db"}, ports=[("pg", 5432, "TCP")])
OUTSIDE = "203.0.113.9"
TO_DB = "app == 'db'"


def deny_all_in(name: str, selector: str = TO_DB, **spec: Any) -> dict[str, Any]:
    return b.gnp(name, selector=selector, ingress=[{"action": "Deny"}], **spec)


def allow_in(name: str, source: dict[str, Any], **spec: Any) -> dict[str, Any]:
    spec.setdefault("selector", TO_DB)
    return b.gnp(name, ingress=[{"action": "Allow", "source": source}], **spec)


SECURITY = b.tier("security", 100)
PASS_WEB = b.gnp(
    "security.pass-web",
    tier="security",
    selector=TO_DB,
    ingress=[{"action": "Pass", "source": {"selector": "app == 'web'"}}, {"action": "Deny"}],
)
ONLY_API = b.gnp(
    "security.only-api",
    tier="security",
    selector=TO_DB,
    ingress=[{"action": "Allow", "source": {"selector": "app == 'api'"}}],
)
PARTNERS = b.global_set("partners", ["203.0.113.0/24"], role="partners")


def tcp(port: int, *ports: Any, **rule: Any) -> dict[str, Any]:
    return {"action": "Allow", "protocol": "TCP", "destination": {"ports": list(ports)}, **rule}


CASES: list[tuple[str, list[dict[str, Any]], Any, Any, int, model.Direction, bool]] = [
    ("no policy: the namespace profile allows", [], WEB, DB, 5432, IN, True),
    ("a global Deny selecting the destination denies", [deny_all_in("deny-db", order=100)],
     WEB, DB, 5432, IN, False),
    ("a lower order Allow comes first", [deny_all_in("d", order=100),
     allow_in("a", {"selector": "app == 'web'"}, order=50)], WEB, DB, 5432, IN, True),
    ("an unset order sorts last", [deny_all_in("d", order=100),
     allow_in("a", {"selector": "app == 'web'"})], WEB, DB, 5432, IN, False),
    ("equal orders sort by name", [deny_all_in("b-deny", order=10),
     allow_in("a-allow", {"selector": "app == 'web'"}, order=10)], WEB, DB, 5432, IN, True),
    ("Pass skips to the next tier, where no policy applies: profile allows",
     [SECURITY, PASS_WEB], WEB, DB, 5432, IN, True),
    ("the rule after Pass denies the others", [SECURITY, PASS_WEB], API, DB, 5432, IN, False),
    ("Pass reaches the default tier's Deny", [SECURITY, PASS_WEB, deny_all_in("d")],
     WEB, DB, 5432, IN, False),
    ("an earlier tier's Allow is final", [SECURITY, ONLY_API, deny_all_in("d")],
     API, DB, 5432, IN, True),
    ("end of tier denies an endpoint the tier selects", [SECURITY, ONLY_API],
     WEB, DB, 5432, IN, False),
    ("a tier with defaultAction Pass passes at its end",
     [b.tier("security", 100, "Pass"), ONLY_API], WEB, DB, 5432, IN, True),
    ("end of tier applies only to endpoints the tier selects",
     [SECURITY, {**ONLY_API, "spec": {**ONLY_API["spec"], "selector": "app == 'web'"}}],
     API, DB, 5432, IN, True),
    ("a tier without order comes after the default tier",
     [b.tier("late"), b.gnp("late.allow", tier="late", selector=TO_DB,
      ingress=[{"action": "Allow"}]), deny_all_in("d")], WEB, DB, 5432, IN, False),
    ("tiers by order: the lower order tier decides first",
     [b.tier("first", 10), b.gnp("first.allow", tier="first", selector=TO_DB,
      ingress=[{"action": "Allow"}]), deny_all_in("d")], WEB, DB, 5432, IN, True),
    ("types default to Egress alone when only egress rules: ingress untouched",
     [b.gnp("e", selector=TO_DB, egress=[{"action": "Deny"}])], WEB, DB, 5432, IN, True),
    ("types default to Ingress for a policy without rules: it isolates",
     [b.gnp("iso", selector=TO_DB)], WEB, DB, 5432, IN, False),
    ("explicit types Egress: ingress rules are ignored",
     [deny_all_in("d", types=["Egress"])], WEB, DB, 5432, IN, True),
    ("a namespaced policy's rule selector stays in its namespace",
     [b.np("data", "np", selector="all()", ingress=[{"action": "Allow",
      "source": {"selector": "app == 'web'"}}])], WEB, DB, 5432, IN, False),
    ("namespaceSelector widens it to namespaces by label",
     [b.np("data", "np", ingress=[{"action": "Allow", "source": {
      "selector": "app == 'web'", "namespaceSelector": "team == 'web'"}}])],
     WEB, DB, 5432, IN, True),
    ("namespaceSelector all() means every namespace",
     [b.np("data", "np", ingress=[{"action": "Allow", "source": {
      "namespaceSelector": "all()"}}])], API, DB, 5432, IN, True),
    ("namespaceSelector by projectcalico.org/name",
     [b.np("data", "np", ingress=[{"action": "Allow", "source": {
      "namespaceSelector": "projectcalico.org/name == 'app'"}}])], API, DB, 5432, IN, True),
    ("a namespaced policy selects only its namespace's endpoints",
     [b.np("app", "np", selector="all()", ingress=[{"action": "Deny"}])],
     WEB, DB, 5432, IN, True),
    ("serviceAccounts names match the pod's account",
     [b.np("data", "np", ingress=[{"action": "Allow", "source": {
      "namespaceSelector": "all()", "serviceAccounts": {"names": ["frontend"]}}}])],
     WEB, DB, 5432, IN, True),
    ("serviceAccounts names do not match another account",
     [b.np("data", "np", ingress=[{"action": "Allow", "source": {
      "namespaceSelector": "all()", "serviceAccounts": {"names": ["frontend"]}}}])],
     API, DB, 5432, IN, False),
    ("serviceAccounts selector matches the account's labels",
     [allow_in("a", {"serviceAccounts": {"selector": "role == 'public'"}})],
     WEB, DB, 5432, IN, True),
    ("a global policy's selector sees projectcalico.org/namespace",
     [allow_in("a", {"selector": "projectcalico.org/namespace == 'app'"})],
     API, DB, 5432, IN, True),
    ("a policy namespaceSelector limits a global policy's subject",
     [deny_all_in("d", selector="all()", namespaceSelector="team == 'web'")],
     WEB, DB, 5432, IN, True),
    ("nets match the source address", [allow_in("a", {"nets": ["10.0.1.0/24"]})],
     WEB, DB, 5432, IN, True),
    ("nets exclude other addresses", [allow_in("a", {"nets": ["10.0.1.0/24"]})],
     OUTSIDE, DB, 5432, IN, False),
    ("notNets exclude the listed addresses", [allow_in("a", {"notNets": ["10.0.1.1/32"]})],
     WEB, DB, 5432, IN, False),
    ("notNets keep the others", [allow_in("a", {"notNets": ["10.0.1.1/32"]})],
     API, DB, 5432, IN, True),
    ("notSelector matches outside addresses", [allow_in("a", {"notSelector": "app == 'web'"})],
     OUTSIDE, DB, 5432, IN, True),
    ("notSelector excludes what it selects", [allow_in("a", {"notSelector": "app == 'web'"})],
     WEB, DB, 5432, IN, False),
    ("a selector never matches an outside address", [allow_in("a", {"selector": "all()"})],
     OUTSIDE, DB, 5432, IN, False),
    ("a selector matches addresses of a selected GlobalNetworkSet",
     [PARTNERS, allow_in("a", {"selector": "role == 'partners'"})], OUTSIDE, DB, 5432, IN, True),
    ("a namespaced policy reaches GlobalNetworkSets with namespaceSelector global()",
     [PARTNERS, b.np("data", "np", ingress=[{"action": "Allow", "source": {
      "selector": "role == 'partners'", "namespaceSelector": "global()"}}])],
     OUTSIDE, DB, 5432, IN, True),
    ("without global() a namespaced policy does not see GlobalNetworkSets",
     [PARTNERS, b.np("data", "np", ingress=[{"action": "Allow", "source": {
      "selector": "role == 'partners'"}}])], OUTSIDE, DB, 5432, IN, False),
    ("a NetworkSet in the policy's namespace is selectable",
     [b.network_set("data", "office", ["203.0.113.0/28"], kind="office"),
      b.np("data", "np", ingress=[{"action": "Allow",
                                   "source": {"selector": "kind == 'office'"}}])],
     OUTSIDE, DB, 5432, IN, True),
    ("a pod inside a selected GlobalNetworkSet's nets matches by address (IP sets)",
     [b.global_set("web-range", ["10.0.1.0/28"], zone="dmz"),
      allow_in("a", {"selector": "zone == 'dmz'"})], WEB, DB, 5432, IN, True),
    ("notSelector also excludes addresses inside the sets it selects",
     [b.global_set("web-range", ["10.0.1.0/28"], zone="dmz"),
      allow_in("a", {"notSelector": "zone == 'dmz'"})], WEB, DB, 5432, IN, False),
    ("notSelector with a selector excludes addresses inside the sets it selects",
     [b.global_set("web-range", ["10.0.1.0/28"], zone="dmz"),
      allow_in("a", {"selector": "has(app)", "notSelector": "zone == 'dmz'"})],
     WEB, DB, 5432, IN, False),
    ("a port number", [b.gnp("p", selector=TO_DB, ingress=[tcp(0, 5432)])],
     WEB, DB, 5432, IN, True),
    ("another port number", [b.gnp("p", selector=TO_DB, ingress=[tcp(0, 5432)])],
     WEB, DB, 5433, IN, False),
    ("a port range", [b.gnp("p", selector=TO_DB, ingress=[tcp(0, "5000:6000")])],
     WEB, DB, 5432, IN, True),
    ("a named port of the destination", [b.gnp("p", selector=TO_DB, ingress=[tcp(0, "pg")])],
     WEB, DB, 5432, IN, True),
    ("a named port the destination lacks", [b.gnp("p", selector=TO_DB, ingress=[tcp(0, "http")])],
     WEB, DB, 5432, IN, False),
    ("notPorts", [b.gnp("p", selector=TO_DB, ingress=[{"action": "Allow", "protocol": "TCP",
     "destination": {"notPorts": ["5000:5500"]}}])], WEB, DB, 5432, IN, False),
    ("protocol by number", [b.gnp("p", selector=TO_DB, ingress=[{"action": "Allow",
     "protocol": 6}])], WEB, DB, 5432, IN, True),
    ("protocol mismatch", [b.gnp("p", selector=TO_DB, ingress=[{"action": "Allow",
     "protocol": "udp"}])], WEB, DB, 5432, IN, False),
    ("notProtocol", [b.gnp("p", selector=TO_DB, ingress=[{"action": "Allow",
     "notProtocol": "UDP"}])], WEB, DB, 5432, IN, True),
    ("Log goes on to the next rule", [b.gnp("p", selector=TO_DB, ingress=[{"action": "Log"},
     {"action": "Deny"}, {"action": "Allow"}])], WEB, DB, 5432, IN, False),
    ("a staged policy is never enforced", [{**deny_all_in("d"),
     "kind": "StagedGlobalNetworkPolicy"}], WEB, DB, 5432, IN, True),
    ("a preDNAT policy acts on host endpoints only", [deny_all_in("d", preDNAT=True,
     applyOnForward=True)], WEB, DB, 5432, IN, True),
    ("egress: a Deny to the database's addresses",
     [b.gnp("e", selector="app == 'web'", types=["Egress"], egress=[{"action": "Deny",
      "destination": {"nets": ["10.0.2.0/24"]}}])], WEB, DB, 5432, OUT, False),
    ("egress rules do not decide ingress",
     [b.gnp("e", selector="all()", types=["Egress"], egress=[{"action": "Deny"}])],
     WEB, DB, 5432, IN, True),
    ("the crd.projectcalico.org/v1 form means the same",
     [{**deny_all_in("d"), "apiVersion": b.CRD}], WEB, DB, 5432, IN, False),
    ("an outside source is not an endpoint: its egress is not policed",
     [b.gnp("e", selector="all()", egress=[{"action": "Deny"}])], OUTSIDE, DB, 5432, OUT, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("found", "src", "dst", "port", "direction", "allowed"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_calico_verdict(
    found: list[dict[str, Any]],
    src: Any,
    dst: Any,
    port: int,
    direction: model.Direction,
    allowed: bool,
) -> None:
    assert b.verdict(found, src, dst, port, direction).allowed is allowed


def test_the_deciding_policy_tier_and_rule_are_named() -> None:
    found = [SECURITY, PASS_WEB]
    verdict = b.verdict(found, API, DB, 5432, IN)
    assert (verdict.tier, verdict.rule, verdict.reason) == ("security", 1, "ingress rule 1: Deny")
    assert (
        verdict.policy is not None and verdict.policy.ref == "GlobalNetworkPolicy security.pass-web"
    )


def test_end_of_tier_is_named_without_a_rule() -> None:
    verdict = b.verdict([SECURITY, ONLY_API], WEB, DB, 5432, IN)
    assert verdict.rule is None and verdict.tier == "security"
    assert "end of tier security" in verdict.reason
