"""Service -> pods, ready endpoints (Endpoints and EndpointSlices), ports and named targetPorts."""

from __future__ import annotations

import pytest

from paramedic.kube import services


def pod(name, labels, ns="data", ports=()):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "postgres", "ports": list(ports)}]},
    }


def service(selector, ports=None, ns="data", **spec):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "profile-db", "namespace": ns},
        "spec": {
            "selector": selector,
            "ports": ports or [{"name": "postgres", "port": 5432}],
            **spec,
        },
    }


DB0 = pod(
    "profile-db-0", {"app": "profile-db"}, ports=[{"name": "postgres", "containerPort": 5432}]
)
DB1 = pod("profile-db-1", {"app": "profile-db", "role": "replica"})
OTHER_NS = pod("profile-db-0", {"app": "profile-db"}, ns="app")


@pytest.mark.parametrize(
    ("selector", "names"),
    [
        ({"app": "profile-db"}, ["profile-db-0", "profile-db-1"]),
        ({"app": "profile-db", "role": "replica"}, ["profile-db-1"]),
        ({"app": "profile-db-primary"}, []),
        ({}, []),
        (None, []),
    ],
)
def test_service_selects_pods_in_its_own_namespace_only(selector, names):
    found = services.selected_pods(service(selector), [DB0, DB1, OTHER_NS])
    assert [p["metadata"]["name"] for p in found] == names
    assert all(p["metadata"]["namespace"] == "data" for p in found)


@pytest.mark.parametrize(
    ("spec", "external"),
    [
        ({"selector": {"app": "profile-db"}}, False),
        ({"selector": None}, True),
        ({"selector": {}}, True),
        ({"selector": None, "type": "ExternalName", "externalName": "db.example.com"}, True),
    ],
)
def test_selectorless_and_externalname_services_are_external(spec, external):
    svc = {"kind": "Service", "metadata": {"name": "s", "namespace": "data"}, "spec": spec}
    assert services.is_external(svc) is external


PORTS = [{"name": "postgres", "port": 5432, "targetPort": "pg"}, {"name": "metrics", "port": 9187}]


@pytest.mark.parametrize(
    ("ports", "wanted", "found"),
    [
        (PORTS, 5432, "postgres"),
        (PORTS, "5432", "postgres"),
        (PORTS, "metrics", "metrics"),
        (PORTS, 6432, None),
        (PORTS, None, None),
        ([{"name": "postgres", "port": 5432}], None, "postgres"),
    ],
)
def test_find_port_by_number_name_or_the_only_port(ports, wanted, found):
    result = services.find_port(service({"app": "profile-db"}, ports), wanted)
    assert (result or {}).get("name") == found


@pytest.mark.parametrize(
    ("typed", "port"),
    [(5432, 5432), ("5432", 5432), ("postgres", "postgres"), ("²", "²"), ("-1", "-1")],
    ids=["number", "digits", "name", "superscript_two_is_a_name", "negative_is_a_name"],
)
def test_port_number_reads_ascii_digits_as_a_number(typed, port):
    assert services.port_number(typed) == port


DNS_PORTS = [
    {"name": "dns", "port": 53, "protocol": "UDP"},
    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
]


@pytest.mark.parametrize(
    ("ports", "wanted", "protocol", "found"),
    [
        (DNS_PORTS, 53, "UDP", "dns"),
        (DNS_PORTS, 53, "TCP", "dns-tcp"),
        (DNS_PORTS, "dns", "TCP", None),
        (DNS_PORTS, None, "TCP", "dns-tcp"),
        (DNS_PORTS, 53, "SCTP", None),
        (PORTS, 5432, "TCP", "postgres"),
    ],
)
def test_find_port_with_a_protocol_sees_only_ports_of_that_protocol(ports, wanted, protocol, found):
    result = services.find_port(service({"k8s-app": "kube-dns"}, ports), wanted, protocol=protocol)
    assert (result or {}).get("name") == found


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ({"port": 5432}, 5432),
        ({"port": 5432, "targetPort": 15432}, 15432),
        ({"port": 5432, "targetPort": "pg"}, "pg"),
        ({"port": 5432, "targetPort": ""}, 5432),
    ],
)
def test_target_port_defaults_to_the_port(port, expected):
    assert services.target_port(port) == expected


@pytest.mark.parametrize(
    ("target", "protocol", "expected"),
    [
        (5432, "TCP", 5432),
        ("5432", "TCP", 5432),
        ("postgres", "TCP", 5432),
        ("postgres", "UDP", None),
        ("pg", "TCP", None),
    ],
)
def test_named_target_port_is_looked_up_on_the_pod(target, protocol, expected):
    assert services.container_port(DB0, target, protocol) == expected


def slice_(addresses_ready, svc="profile-db", ns="data"):
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{svc}-abc12",
            "namespace": ns,
            "labels": {"kubernetes.io/service-name": svc},
        },
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": [ip], **({} if ready is None else {"conditions": {"ready": ready}})}
            for ip, ready in addresses_ready
        ],
    }


ENDPOINTS = {
    "apiVersion": "v1",
    "kind": "Endpoints",
    "metadata": {"name": "profile-db", "namespace": "data"},
    "subsets": [
        {
            "addresses": [{"ip": "10.244.2.17"}],
            "notReadyAddresses": [{"ip": "10.244.1.9"}],
            "ports": [{"port": 5432}],
        }
    ],
}


@pytest.mark.parametrize(
    ("endpoints", "slices", "expected"),
    [
        ([ENDPOINTS], [], (["10.244.2.17"], ["10.244.1.9"])),
        (
            [],
            [slice_([("10.244.2.17", True), ("10.244.1.9", False)])],
            (["10.244.2.17"], ["10.244.1.9"]),
        ),
        ([], [slice_([("10.244.2.17", None)])], (["10.244.2.17"], [])),
        ([ENDPOINTS], [slice_([("10.244.3.3", True)])], (["10.244.3.3"], [])),
        ([], [slice_([("10.9.9.9", True)], svc="other")], ([], [])),
        ([], [slice_([("10.9.9.9", True)], ns="app")], ([], [])),
        ([], [], ([], [])),
    ],
)
def test_ready_endpoints_from_slices_else_endpoints(endpoints, slices, expected):
    assert (
        services.endpoint_addresses(service({"app": "profile-db"}), endpoints, slices) == expected
    )


@pytest.mark.parametrize(
    ("endpoints", "slices", "expected"),
    [
        ([ENDPOINTS], [], True),
        ([], [slice_([])], True),
        ([], [slice_([], svc="other")], False),
        ([], [], False),
    ],
)
def test_has_endpoint_objects(endpoints, slices, expected):
    assert (
        services.has_endpoint_objects(service({"app": "profile-db"}), endpoints, slices) is expected
    )


def test_unquoted_yaml_booleans_in_labels_and_selectors_still_match():
    pod_ = pod("p", {"primary": True})
    assert services.selected_pods(service({"primary": "true"}), [pod_]) == [pod_]
    assert services.selected_pods(service({"primary": True}), [pod_]) == [pod_]
