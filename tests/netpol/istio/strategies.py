"""Random Istio objects for the hypothesis properties (tests/netpol/test_properties.py): sidecars
and service accounts on the generated pods, AuthorizationPolicies and PeerAuthentications."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMESPACES = ("a", "b", "c", "istio-system")
GROUP = "security.istio.io/v1"

labels_st = st.one_of(
    st.none(),
    st.builds(
        lambda k, v: {k: v}, st.sampled_from(("app", "tier")), st.sampled_from(("web", "db"))
    ),
)
source_st = st.fixed_dictionaries(
    {},
    optional={
        "principals": st.lists(
            st.sampled_from(("cluster.local/ns/a/sa/x", "*/sa/y", "cluster.local/ns/b/*", "*")),
            min_size=1,
            max_size=2,
        ),
        "notPrincipals": st.just(["cluster.local/ns/a/sa/x"]),
        "namespaces": st.lists(st.sampled_from(("a", "b*", "*")), min_size=1, max_size=2),
        "notNamespaces": st.just(["c"]),
        "ipBlocks": st.lists(
            st.sampled_from(("10.0.0.0/16", "10.0.1.7", "0.0.0.0/0")), min_size=1, max_size=2
        ),
        "notIpBlocks": st.just(["10.0.1.0/24"]),
        "requestPrincipals": st.just(["issuer/subject"]),
    },
).filter(bool)
operation_st = st.fixed_dictionaries(
    {},
    optional={
        "ports": st.lists(st.sampled_from(("80", "5432", "5500")), min_size=1, max_size=2),
        "notPorts": st.just(["80"]),
        "methods": st.just(["GET"]),
    },
).filter(bool)
when_st = st.one_of(
    st.just({"key": "destination.port", "values": ["5432"]}),
    st.just({"key": "source.ip", "notValues": ["10.0.0.5"]}),
    st.just({"key": "source.namespace", "values": ["a"]}),
    st.just({"key": "request.headers[x-user]", "values": ["admin"]}),
)
rule_st = st.fixed_dictionaries(
    {},
    optional={
        "from": st.lists(st.builds(lambda s: {"source": s}, source_st), min_size=1, max_size=2),
        "to": st.lists(st.builds(lambda o: {"operation": o}, operation_st), min_size=1, max_size=2),
        "when": st.lists(when_st, min_size=1, max_size=2),
    },
)


@st.composite
def authorization_st(draw: Any, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"action": draw(st.sampled_from(("ALLOW", "DENY")))}
    selector = draw(labels_st)
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if draw(st.booleans()):
        spec["rules"] = draw(st.lists(rule_st, max_size=2))
    return {
        "apiVersion": GROUP,
        "kind": "AuthorizationPolicy",
        "metadata": {"namespace": draw(st.sampled_from(NAMESPACES)), "name": name},
        "spec": spec,
    }


mode_st = st.sampled_from(("STRICT", "PERMISSIVE", "DISABLE", "UNSET"))


@st.composite
def peer_authentication_st(draw: Any, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    selector = draw(labels_st)
    if draw(st.booleans()):
        spec["mtls"] = {"mode": draw(mode_st)}
    if selector:
        spec["selector"] = {"matchLabels": selector}
        if draw(st.booleans()):
            spec["portLevelMtls"] = {draw(st.sampled_from(("80", "5432"))): {"mode": draw(mode_st)}}
    return {
        "apiVersion": GROUP,
        "kind": "PeerAuthentication",
        "metadata": {
            "namespace": draw(st.sampled_from(NAMESPACES)),
            "name": name,
            "creationTimestamp": f"2026-01-0{draw(st.integers(1, 3))}T00:00:00Z",
        },
        "spec": spec,
    }


@st.composite
def mesh_st(draw: Any, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sidecars and service accounts on the pods of `objs` (in place), and Istio policies."""
    for obj in objs:
        if obj.get("kind") != "Pod" or (obj.get("spec") or {}).get("hostNetwork"):
            continue
        spec = obj.setdefault("spec", {})
        spec["serviceAccountName"] = draw(st.sampled_from(("x", "y", "default")))
        where = draw(st.sampled_from((None, "containers", "initContainers")))
        if where is not None:
            proxy = {"name": "istio-proxy"}
            if where == "initContainers":
                proxy["restartPolicy"] = "Always"
            spec[where] = [*spec.get(where, []), proxy]
    found = draw(st.lists(st.integers(0, 1), max_size=3))
    made = [
        draw(authorization_st(f"ap{i}")) if kind else draw(peer_authentication_st(f"pa{i}"))
        for i, kind in enumerate(found)
    ]
    return made
