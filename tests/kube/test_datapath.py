"""The CNI data path between nodes, read from the CNI's DaemonSet env and ConfigMaps."""

from __future__ import annotations

import json

import pytest

from paramedic.kube import datapath


def ds(name: str, env: dict[str, str] | None = None, ns: str = "kube-system") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                        }
                    ]
                }
            }
        },
    }


def cm(name: str, data: dict[str, str], ns: str = "kube-system") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data,
    }


def needs(objs) -> list[tuple[int, int | None]]:
    path = datapath.detect(objs)
    assert path is not None
    return [(n.protocol, n.port) for n in path.needs]


@pytest.mark.parametrize(
    ("env", "expected", "mode"),
    [
        ({"CALICO_IPV4POOL_IPIP": "Always"}, [(4, None), (6, 179)], "IPIP + BGP"),
        (
            {"CALICO_IPV4POOL_VXLAN": "Always", "CALICO_NETWORKING_BACKEND": "vxlan"},
            [(17, 4789)],
            "VXLAN",
        ),
        ({"CALICO_IPV4POOL_IPIP": "Never"}, [(6, 179), (6, None)], "BGP"),
        (
            {"CALICO_IPV4POOL_IPIP": "CrossSubnet"},
            [(4, None), (6, 179), (6, None)],
            "IPIP (cross-subnet) + BGP",
        ),
        (
            {
                "CALICO_IPV4POOL_VXLAN": "Always",
                "CALICO_NETWORKING_BACKEND": "vxlan",
                "FELIX_WIREGUARDENABLED": "true",
            },
            [(17, 4789), (17, 51820)],
            "VXLAN + WireGuard",
        ),
    ],
)
def test_calico_modes_from_the_daemonset_env(env, expected, mode):
    path = datapath.detect([ds("calico-node", env)])
    assert path is not None and path.cni == "calico" and path.mode == mode
    assert needs([ds("calico-node", env)]) == expected


def test_calico_ippool_overrides_the_env():
    pool = {
        "apiVersion": "crd.projectcalico.org/v1",
        "kind": "IPPool",
        "metadata": {"name": "default-ipv4-ippool"},
        "spec": {"vxlanMode": "Always", "ipipMode": "Never"},
    }
    objs = [
        ds("calico-node", {"CALICO_IPV4POOL_IPIP": "Always", "CALICO_NETWORKING_BACKEND": "vxlan"}),
        pool,
    ]
    assert needs(objs) == [(17, 4789)]


def test_calico_operator_installation_encapsulation():
    inst = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "Installation",
        "metadata": {"name": "default"},
        "spec": {"calicoNetwork": {"ipPools": [{"encapsulation": "VXLANCrossSubnet"}]}},
    }
    objs = [ds("calico-node", {"CALICO_NETWORKING_BACKEND": "vxlan"}, "calico-system"), inst]
    assert needs(objs) == [(17, 4789), (6, None)]


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ({"Type": "vxlan"}, [(17, 8472)]),
        ({"Type": "vxlan", "Port": 4789}, [(17, 4789)]),
        ({"Type": "host-gw"}, [(6, None)]),
        ({"Type": "wireguard"}, [(17, 51820)]),
        ({"Type": "ipip"}, [(4, None)]),
    ],
)
def test_flannel_backend_from_net_conf(backend, expected):
    conf = json.dumps({"Network": "10.244.0.0/16", "Backend": backend})
    objs = [
        ds("kube-flannel-ds", ns="kube-flannel"),
        cm("kube-flannel-cfg", {"net-conf.json": conf}, "kube-flannel"),
    ]
    assert needs(objs) == expected


@pytest.mark.parametrize(
    ("data", "expected", "mode"),
    [
        ({}, [(17, 8472)], "VXLAN"),
        ({"tunnel-protocol": "geneve"}, [(17, 6081)], "Geneve"),
        ({"routing-mode": "native"}, [(6, None)], "native routing"),
        ({"tunnel": "disabled"}, [(6, None)], "native routing"),
        ({"tunnel-protocol": "vxlan", "tunnel-port": "4789"}, [(17, 4789)], "VXLAN"),
        ({"enable-wireguard": "true"}, [(17, 8472), (17, 51871)], "VXLAN + WireGuard"),
    ],
)
def test_cilium_config(data, expected, mode):
    objs = [ds("cilium"), cm("cilium-config", data)]
    path = datapath.detect(objs)
    assert path is not None and path.mode == mode
    assert needs(objs) == expected


def test_aws_vpc_cni_routes_natively():
    path = datapath.detect([ds("aws-node")])
    assert path is not None and path.cni == "aws-vpc-cni" and path.needs == (datapath.NATIVE,)


def test_nothing_known_is_none():
    assert datapath.detect([ds("kube-proxy")]) is None
