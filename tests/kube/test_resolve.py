"""SRC and DST resolution (DESIGN.md §3) against evidence, and the error texts."""

from __future__ import annotations

import pytest

from paramedic import errors
from paramedic.evidence import model
from paramedic.kube import names, resolve


def meta(name, ns=None, **extra):
    m = {"name": name, "uid": f"uid-{ns}-{name}", **extra}
    if ns:
        m["namespace"] = ns
    return m


def owner(kind, name, ns):
    return [
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "name": name,
            "uid": f"uid-{ns}-{name}",
            "controller": True,
        }
    ]


OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("app")},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("data")},
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("user-service", "app"),
        "spec": {"selector": {"matchLabels": {"app": "user-service"}}},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta(
            "user-service-7d4b9c", "app", ownerReferences=owner("Deployment", "user-service", "app")
        ),
    },
    *[
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta(
                f"user-service-7d4b9c-{s}",
                "app",
                labels={"app": "user-service"},
                ownerReferences=owner("ReplicaSet", "user-service-7d4b9c", "app"),
            ),
        }
        for s in ("abcde", "fghij")
    ],
    {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta("profile-db", "data"),
        "spec": {"selector": {"matchLabels": {"app": "profile-db"}}},
    },
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(
            "profile-db-0",
            "data",
            labels={"app": "profile-db"},
            ownerReferences=owner("StatefulSet", "profile-db", "data"),
        ),
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("profile-db", "data"),
        "spec": {
            "selector": {"app": "profile-db"},
            "clusterIP": "10.96.140.12",
            "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("two-ports", "data"),
        "spec": {
            "selector": {"app": "profile-db"},
            "ports": [{"name": "postgres", "port": 5432}, {"name": "metrics", "port": 9187}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("legacy-db", "data"),
        "spec": {
            "type": "ExternalName",
            "externalName": "db.corp.example.com",
            "ports": [{"port": 5432}],
        },
    },
]
EVIDENCE = model.Evidence.of(OBJECTS)


def scope_of(source, target, port=None, namespace="app", default_port=5432):
    incident = model.Incident(source=source, target=target, port=port, namespace=namespace)
    return resolve.resolve(EVIDENCE, incident, default_port=default_port)


@pytest.mark.parametrize(
    "target",
    [
        "profile-db.data",
        "profile-db.data.svc",
        "profile-db.data.svc.cluster.local",
        "profile-db.data.svc.cluster.local.",
        "data/profile-db",
        "data/profile-db:5432",
        "profile-db.data:5432",
        "profile-db.data.svc.cluster.local:postgres",
        "10.96.140.12",
        "10.96.140.12:5432",
    ],
)
def test_every_way_of_naming_the_db_service_resolves_to_it(target):
    scope = scope_of("user-service", target)
    assert scope.target == "Service data/profile-db"
    assert scope.target_host == "profile-db.data.svc.cluster.local"
    assert scope.port == 5432
    assert scope.port_name == "postgres"
    assert [p["metadata"]["name"] for p in scope.target_pods] == ["profile-db-0"]
    assert not scope.external


def test_bare_service_name_is_looked_up_in_the_source_namespace():
    scope = scope_of("profile-db-0", "profile-db", namespace="data")
    assert scope.target == "Service data/profile-db"


@pytest.mark.parametrize(
    ("source", "kind_label", "pod_count"),
    [
        ("user-service", "Deployment app/user-service", 2),
        ("app=user-service", "pods app=user-service in app", 2),
        ("user-service-7d4b9c-abcde", "Pod app/user-service-7d4b9c-abcde", 1),
    ],
)
def test_source_as_workload_selector_or_pod(source, kind_label, pod_count):
    scope = scope_of(source, "profile-db.data")
    assert scope.source == kind_label
    assert len(scope.source_pods) == pod_count
    assert scope.source_workload is not None
    assert scope.source_workload["metadata"]["name"] == "user-service"


def test_namespace_is_guessed_when_the_source_is_unambiguous():
    scope = scope_of("user-service", "profile-db.data", namespace=None)
    assert scope.namespace == "app"


@pytest.mark.parametrize(
    ("target", "port", "host", "expected_port"),
    [
        ("db.example.com:5432", None, "db.example.com", 5432),
        ("db.example.com", 6432, "db.example.com", 6432),
        ("db.example.com", None, "db.example.com", 5432),
        ("203.0.113.10", None, "203.0.113.10", 5432),
        ("203.0.113.10:6543", None, "203.0.113.10", 6543),
        ("[2001:db8::10]:5432", None, "2001:db8::10", 5432),
        ("2001:db8::10", None, "2001:db8::10", 5432),
    ],
)
def test_hosts_outside_the_cluster_are_external(target, port, host, expected_port):
    scope = scope_of("user-service", target, port=port)
    assert scope.external
    assert scope.target_service is None
    assert (scope.target_host, scope.port) == (host, expected_port)


def test_externalname_service_is_in_evidence_but_external():
    scope = scope_of("user-service", "data/legacy-db")
    assert scope.external
    assert scope.target == "Service data/legacy-db"


def test_port_name_selects_one_of_several_service_ports():
    assert scope_of("user-service", "data/two-ports:metrics").port == 9187


@pytest.mark.parametrize(
    ("source", "target", "port", "namespace", "default_port", "message"),
    [
        (
            "billing",
            "profile-db.data",
            None,
            "app",
            5432,
            "source: no Deployment, StatefulSet, DaemonSet or Pod named 'billing'"
            " in namespace 'app'",
        ),
        (
            "app=billing",
            "profile-db.data",
            None,
            "app",
            5432,
            "source: no pod in namespace 'app' matches 'app=billing'",
        ),
        (
            "user-service",
            "profile-dbx.data",
            None,
            "app",
            5432,
            "target: no Service 'profile-dbx' in namespace 'data'",
        ),
        (
            "user-service",
            "profile-db",
            None,
            "app",
            5432,
            "target: no Service 'profile-db' in namespace 'app';"
            " Services named 'profile-db' exist in: data",
        ),
        (
            "user-service",
            "data/nope",
            None,
            "app",
            5432,
            "target: no Service 'nope' in namespace 'data'",
        ),
        (
            "user-service",
            "profile-db.nowhere.svc.cluster.local",
            None,
            "app",
            5432,
            "target: no Service 'profile-db' in namespace 'nowhere'",
        ),
        (
            "user-service",
            "profile-db.data:6432",
            None,
            "app",
            5432,
            "target Service data/profile-db: no port 6432 \\(ports: postgres:5432\\); pass --port",
        ),
        (
            "user-service",
            "data/two-ports",
            None,
            "app",
            None,
            "target Service data/two-ports: no port \\(unspecified\\)",
        ),
        (
            "user-service",
            "db.example.com:postgres",
            None,
            "app",
            5432,
            "target 'db.example.com' is outside the cluster: give a numeric port",
        ),
        (
            "user-service",
            "db.example.com",
            None,
            "app",
            None,
            "target 'db.example.com' is outside the cluster: give a numeric port",
        ),
        (
            "user-service",
            "db.example.com:70000",
            None,
            "app",
            None,
            "target 'db.example.com': port 70000 is out of range \\(1-65535\\)",
        ),
        (
            "user-service",
            "db.example.com",
            0,
            "app",
            None,
            "target 'db.example.com': port 0 is out of range \\(1-65535\\)",
        ),
        (
            "user-service",
            "db..example.com:5432",
            None,
            "app",
            None,
            "target 'db..example.com' is not a Service, a DNS name or an IP address",
        ),
        (
            "user-service",
            ":5432",
            None,
            "app",
            None,
            "target '' is not a Service, a DNS name or an IP address",
        ),
    ],
)
def test_resolution_errors_are_one_clear_line(
    source, target, port, namespace, default_port, message
):
    with pytest.raises(errors.IncidentError, match=f"^{message}"):
        scope_of(source, target, port=port, namespace=namespace, default_port=default_port)


def test_source_in_several_namespaces_asks_for_n():
    twin = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("user-service", "staging"),
    }
    evidence = model.Evidence.of([*OBJECTS, twin])
    with pytest.raises(
        errors.IncidentError, match="exists in several namespaces \\(app, staging\\); pass -n"
    ):
        resolve.resolve(evidence, model.Incident(source="user-service", target="profile-db.data"))


def test_scope_as_dict_is_the_incident_of_the_json_report():
    assert scope_of("user-service", "profile-db.data").as_dict() == {
        "source": "Deployment app/user-service",
        "target": "Service data/profile-db",
        "port": 5432,
        "namespace": "app",
    }


def test_dns_names_are_case_insensitive():
    assert (
        scope_of("user-service", "Profile-DB.Data.svc.cluster.local").target
        == "Service data/profile-db"
    )


@pytest.mark.parametrize(
    ("target", "service"),
    [
        ("profile-db", ("app", "profile-db")),
        ("data/profile-db", ("data", "profile-db")),
        ("profile-db.data", ("data", "profile-db")),
        ("profile-db.data.svc", ("data", "profile-db")),
        ("Profile-DB.Data.svc.cluster.local.", ("data", "profile-db")),
        ("profile-db.data.svc.corp.internal", ("data", "profile-db")),
        ("db.example.com", ("app", None)),
        ("10.0.3.7", ("app", None)),
        ("2001:db8::7", ("app", None)),
    ],
)
def test_service_name_says_which_service_dst_names_or_none_for_an_outside_host(target, service):
    assert names.service_name(target, "app") == service


@pytest.mark.parametrize(
    ("target", "split"),
    [
        ("profile-db", ("profile-db", None)),
        ("profile-db:5432", ("profile-db", "5432")),
        ("profile-db.data:postgres", ("profile-db.data", "postgres")),
        ("[2001:db8::7]:5432", ("2001:db8::7", "5432")),
        ("[2001:db8::7]", ("2001:db8::7", None)),
        ("2001:db8::7", ("2001:db8::7", None)),
    ],
)
def test_split_port_takes_the_port_or_port_name_off_dst(target, split):
    assert names.split_port(target) == split


@pytest.mark.parametrize(
    ("source", "selector"),
    [
        ("user-service", False),
        ("app=user-service", True),
        ("tier!=db", True),
        ("env in (prod)", True),
        ("!legacy", True),
    ],
)
def test_is_selector_tells_a_label_selector_from_a_name(source, selector):
    assert names.is_selector(source) is selector


def _seed_scope(target: str) -> resolve.Scope:
    from paramedic.evidence import demos

    evidence = demos.load("seed")
    incident = model.Incident(source="user-service", namespace="app", target=target)
    return resolve.resolve(evidence, incident, default_port=5432)


def test_a_statefulset_pod_dns_name_resolves_to_that_pod_behind_its_service() -> None:
    scope = _seed_scope("profile-db-0.profile-db.data.svc.cluster.local:5432")
    assert scope.target == "Service data/profile-db" and not scope.external
    assert [p["metadata"]["name"] for p in scope.target_pods] == ["profile-db-0"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "profile-db.dta:5432",
            "no namespace 'dta' in the evidence; Services named 'profile-db' exist in: data",
        ),
        ("profile-db-1.profile-db.data.svc:5432", "no pod with hostname 'profile-db-1'"),
        ("x.y.z.svc.cluster.local:5432", "is a cluster DNS name, but no such Service"),
    ],
)
def test_cluster_looking_names_that_do_not_resolve_are_errors_not_outside_hosts(
    target: str, message: str
) -> None:
    with pytest.raises(errors.IncidentError) as raised:
        _seed_scope(target)
    assert message in str(raised.value)


def test_a_real_outside_name_stays_external() -> None:
    scope = _seed_scope("db.example.com:5432")
    assert scope.external and scope.port == 5432


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user-service", (None, None, "user-service")),
        ("app/user-service", ("app", None, "user-service")),
        ("deployment/user-service", (None, "Deployment", "user-service")),
        ("deploy/user-service", (None, "Deployment", "user-service")),
        ("deployment.apps/user-service", (None, "Deployment", "user-service")),
        ("sts/profile-db", (None, "StatefulSet", "profile-db")),
        ("pod/user-service-7d9f8b6c5d-x2x9k", (None, "Pod", "user-service-7d9f8b6c5d-x2x9k")),
        ("app=user-service", (None, None, "app=user-service")),
    ],
)
def test_source_forms_are_split_as_kubectl_users_write_them(text: str, expected: tuple) -> None:  # type: ignore[type-arg]
    assert names.split_source(text) == expected


def test_a_kind_prefix_restricts_the_source_kind() -> None:
    with pytest.raises(errors.IncidentError, match="no StatefulSet named 'user-service'"):
        _seed_scope_from("sts/user-service")
    assert _seed_scope_from("app/user-service").source == "Deployment app/user-service"


def _seed_scope_from(source: str) -> resolve.Scope:
    from paramedic.evidence import demos

    evidence = demos.load("seed")
    incident = model.Incident(source=source, target="profile-db.data:5432")
    return resolve.resolve(evidence, incident, default_port=5432)


def test_a_pod_ip_target_is_that_pod_behind_its_service_not_an_outside_host() -> None:
    scope = _seed_scope("10.244.2.31:5432")
    assert not scope.external and scope.target == "Service data/profile-db"
    assert [p["metadata"]["name"] for p in scope.target_pods] == ["profile-db-0"]


FORBIDDEN = "cannot list {plural} in {ns}: forbidden (for user alice)"


@pytest.mark.parametrize(
    ("gap", "source", "target", "message"),
    [
        (
            model.Gap("StatefulSet", "app", FORBIDDEN.format(plural="statefulsets", ns="app")),
            "user-servce",
            "profile-db.data",
            "source: cannot tell whether 'user-servce' exists in namespace 'app':"
            " cannot list statefulsets in app: forbidden",
        ),
        (
            model.Gap("Pod", "", "cannot list pods: timed out after 2.0 s"),
            "app=nothing-has-this",
            "profile-db.data",
            "source: cannot tell whether 'app=nothing-has-this' exists in namespace 'app':"
            " cannot list pods: timed out",
        ),
        (
            model.Gap("Service", "data", FORBIDDEN.format(plural="services", ns="data")),
            "user-service",
            "orders-db.data",
            "target: cannot tell whether 'orders-db' exists in namespace 'data':"
            " cannot list services in data: forbidden",
        ),
        (
            model.Gap("Service", "billing", FORBIDDEN.format(plural="services", ns="billing")),
            "user-service",
            "ledger.billing:5432",  # namespace billing unseen: not taken for an outside host
            "target: cannot tell whether 'ledger' exists in namespace 'billing':"
            " cannot list services in billing: forbidden",
        ),
    ],
)
def test_a_lookup_that_was_refused_is_not_reported_as_a_missing_object(
    gap: model.Gap, source: str, target: str, message: str
) -> None:
    """Without the gap each of these is "no such object" (or an outside host): a claim the
    evidence cannot make when the lookup itself failed."""
    incident = model.Incident(source=source, target=target, namespace="app")
    try:
        assert resolve.resolve(EVIDENCE, incident, default_port=5432).external
    except errors.IncidentError as complete:
        assert "cannot tell" not in str(complete)
    evidence = model.Evidence.of(OBJECTS, gaps=[gap])
    with pytest.raises(errors.IncidentError, match=f"^{message}"):
        resolve.resolve(evidence, incident, default_port=5432)


def test_a_gap_elsewhere_does_not_hide_a_missing_object() -> None:
    evidence = model.Evidence.of(
        OBJECTS, gaps=[model.Gap("StatefulSet", "billing", "cannot list statefulsets in billing")]
    )
    incident = model.Incident(source="user-servce", target="profile-db.data", namespace="app")
    with pytest.raises(errors.IncidentError, match=r"^source: no Deployment, StatefulSet"):
        resolve.resolve(evidence, incident)


@pytest.mark.parametrize(
    ("source", "target", "namespace", "said"),
    [
        (
            "user-service",
            "profile-db.data",
            "data",
            "source: no Deployment, StatefulSet, DaemonSet or Pod named 'user-service' in"
            " namespace 'data'; Deployment app/user-service exists (pass -n app)",
        ),
        (
            "user-servce",
            "profile-db.data",
            "app",
            "source: no Deployment, StatefulSet, DaemonSet or Pod named 'user-servce' in"
            " namespace 'app'; did you mean 'user-service'?",
        ),
        (
            "user-service",
            "profle-db.data",
            "app",
            "target: no Service 'profle-db' in namespace 'data'; did you mean 'profile-db'?",
        ),
        (
            "billing",
            "profile-db.data",
            "app",
            "source: no Deployment, StatefulSet, DaemonSet or Pod named 'billing' in namespace"
            " 'app' (forms: NAME, NS/NAME, deployment/NAME, pod/NAME, or a label selector"
            " app=NAME)",
        ),
    ],
)
def test_a_name_not_found_says_where_it_is_or_what_it_is_close_to(
    source: str, target: str, namespace: str, said: str
) -> None:
    incident = model.Incident(source=source, target=target, namespace=namespace)
    with pytest.raises(errors.IncidentError) as raised:
        resolve.resolve(EVIDENCE, incident)
    assert str(raised.value) == said
