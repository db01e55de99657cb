"""Which packets carry pod traffic between nodes: the CNI's data path, read from its objects.

Pod-to-pod traffic across nodes is either encapsulated (the node firewall sees UDP or IP-in-IP
between node addresses) or routed natively (it sees the pod's own packets). So which port a
security group between the nodes must allow depends on the CNI and its mode, read here from the
CNI's DaemonSet env and ConfigMaps (or Calico's IPPool / Installation objects):

    Calico   IPIP: IP protocol 4; VXLAN: UDP 4789; BGP (bird): TCP 179; WireGuard: UDP 51820 (v4),
             51821 (v6). "CrossSubnet" modes encapsulate only between subnets.
    Flannel  vxlan: UDP 8472 (Linux kernel default, or the net-conf Port); wireguard: UDP 51820;
             udp: UDP 8285; ipip: IP protocol 4; host-gw: native routing.
    Cilium   tunnel vxlan: UDP 8472; geneve: UDP 6081 (or tunnel-port); native routing-mode;
             enable-wireguard: UDP 51871.
    AWS VPC CNI (aws-node): native routing; pods have VPC addresses.

Native routing needs the pod port itself between the nodes (`Need.port is None` means "the
destination pod's port").
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.kube import objects

IPIP, TCP, UDP = 4, 6, 17


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    protocol: int
    port: int | None
    """None with TCP: the destination pod's own port (native routing)."""
    what: str
    both_ways: bool = True
    """Tunnels send packets from either end; a TCP connection only needs its opening direction."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DataPath:
    cni: str
    mode: str
    needs: tuple[Need, ...]
    cites: tuple[tuple[str, str], ...]
    """(what was read, the object it was read from)."""


CALICO_V3, CALICO_CRD, OPERATOR = (
    "projectcalico.org/v3",
    "crd.projectcalico.org/v1",
    "operator.tigera.io/v1",
)
CALICO_KINDS = ("IPPool", "FelixConfiguration")
"""Calico's cluster-scoped objects that set its encapsulation and WireGuard, served as
projectcalico.org/v3 (Calico's API server) or only as the crd.projectcalico.org/v1 CRDs."""
OPERATOR_KINDS = ("Installation",)
"""tigera-operator's cluster-scoped operator.tigera.io/v1 objects (the IP pools it creates)."""
NATIVE = Need(protocol=TCP, port=None, what="the pod port itself (native routing)", both_ways=False)


def detect(everything: Sequence[Mapping[str, Any]]) -> DataPath | None:
    """The data path the evidence shows, or None when no known CNI's objects are there."""
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for obj in everything:
        by_kind.setdefault(str(obj.get("kind", "")), []).append(obj)
    daemonsets = {objects.name(d): d for d in by_kind.get("DaemonSet", [])}
    configmaps = {objects.name(c): c for c in by_kind.get("ConfigMap", [])}
    if "cilium" in daemonsets:
        return _cilium(daemonsets["cilium"], configmaps.get("cilium-config"))
    flannel = next((d for n, d in daemonsets.items() if "flannel" in n), None)
    if flannel is not None or "canal" in daemonsets:
        return _flannel(flannel or daemonsets["canal"], configmaps)
    if "calico-node" in daemonsets:
        return _calico(daemonsets["calico-node"], by_kind)
    if "aws-node" in daemonsets:
        ds = daemonsets["aws-node"]
        return DataPath(
            cni="aws-vpc-cni",
            mode="native routing",
            needs=(NATIVE,),
            cites=(("aws-node: pods get VPC addresses, routed natively", objects.ref(ds)),),
        )
    return None


def _env(ds: Mapping[str, Any]) -> dict[str, str]:
    pod_spec = objects.as_dict(objects.as_dict(objects.spec(ds).get("template")).get("spec"))
    out: dict[str, str] = {}
    for c in objects.as_list(pod_spec.get("containers")):
        for e in objects.as_list(c.get("env") if isinstance(c, dict) else None):
            if isinstance(e, dict) and isinstance(e.get("value"), str):
                out[str(e.get("name"))] = e["value"]
    return out


def _data(cm: Mapping[str, Any] | None) -> Mapping[str, Any]:
    data = cm.get("data") if cm else None
    return data if isinstance(data, dict) else {}


def _cilium(ds: Mapping[str, Any], cm: Mapping[str, Any] | None) -> DataPath:
    data = _data(cm)
    source = objects.ref(cm) if cm else objects.ref(ds)
    routing = str(data.get("routing-mode", "")).lower()
    tunnel = str(data.get("tunnel-protocol") or data.get("tunnel") or "vxlan").lower()
    cites = [(f"routing-mode={routing or '(unset)'} tunnel={tunnel}", source)]
    if routing == "native" or tunnel == "disabled":
        needs = [NATIVE]
        mode = "native routing"
    else:
        default = 6081 if tunnel == "geneve" else 8472
        port = _int(data.get("tunnel-port"), default)
        needs = [Need(protocol=UDP, port=port, what=f"Cilium {tunnel.upper()} tunnel")]
        mode = "Geneve" if tunnel == "geneve" else "VXLAN"
    if str(data.get("enable-wireguard", "")).lower() == "true":
        needs.append(Need(protocol=UDP, port=51871, what="Cilium WireGuard"))
        cites.append(("enable-wireguard=true", source))
        mode += " + WireGuard"
    return DataPath(cni="cilium", mode=mode, needs=tuple(needs), cites=tuple(cites))


def _flannel(ds: Mapping[str, Any], configmaps: Mapping[str, Mapping[str, Any]]) -> DataPath:
    cm = configmaps.get("kube-flannel-cfg") or configmaps.get("canal-config")
    raw = _data(cm).get("net-conf.json")
    backend: Mapping[str, Any] = {}
    if isinstance(raw, str):
        try:
            conf = json.loads(raw)
            backend = objects.as_dict(conf.get("Backend")) if isinstance(conf, dict) else {}
        except ValueError:
            backend = {}
    kind = str(backend.get("Type", "vxlan")).lower() if isinstance(backend, dict) else "vxlan"
    source = objects.ref(cm) if cm else objects.ref(ds)
    cites = ((f"flannel backend {kind}", source),)
    ports = {"vxlan": 8472, "udp": 8285, "wireguard": 51820}
    if kind in ports:
        port = _int(backend.get("Port") or backend.get("ListenPort"), ports[kind])
        need = Need(protocol=UDP, port=port, what=f"Flannel {kind}")
    elif kind == "ipip":
        need = Need(protocol=IPIP, port=None, what="Flannel IP-in-IP")
    else:
        need = NATIVE
    mode = {"vxlan": "VXLAN", "wireguard": "WireGuard", "ipip": "IPIP", "udp": "UDP"}
    return DataPath(
        cni="flannel", mode=mode.get(kind, "native routing"), needs=(need,), cites=cites
    )


def _calico(ds: Mapping[str, Any], by_kind: Mapping[str, list[Mapping[str, Any]]]) -> DataPath:
    env = _env(ds)
    ref = objects.ref(ds)
    ipip = env.get("CALICO_IPV4POOL_IPIP", "")
    vxlan = env.get("CALICO_IPV4POOL_VXLAN", "")
    cites = []
    for pool in by_kind.get("IPPool", []):
        spec = objects.spec(pool)
        ipip = str(spec.get("ipipMode") or ipip)
        vxlan = str(spec.get("vxlanMode") or vxlan)
        cites.append(
            (f"ipipMode={ipip or 'Never'} vxlanMode={vxlan or 'Never'}", objects.ref(pool))
        )
    for inst in by_kind.get("Installation", []):
        network = objects.spec(inst).get("calicoNetwork")
        for pool in objects.as_list(network.get("ipPools") if isinstance(network, dict) else None):
            enc = str(pool.get("encapsulation", "")) if isinstance(pool, dict) else ""
            if enc.startswith("VXLAN"):
                vxlan = "CrossSubnet" if "CrossSubnet" in enc else "Always"
            elif enc.startswith("IPIP"):
                ipip = "CrossSubnet" if "CrossSubnet" in enc else "Always"
            cites.append((f"encapsulation={enc}", objects.ref(inst)))
    backend = env.get("CALICO_NETWORKING_BACKEND", "bird").lower()
    cites.append(
        (f"CALICO_NETWORKING_BACKEND={backend} IPIP={ipip or '-'} VXLAN={vxlan or '-'}", ref)
    )
    needs, modes = [], []
    for name, value, need in (
        ("IPIP", ipip, Need(protocol=IPIP, port=None, what="Calico IP-in-IP")),
        ("VXLAN", vxlan, Need(protocol=UDP, port=4789, what="Calico VXLAN")),
    ):
        if value.lower() in ("always", "crosssubnet"):
            needs.append(need)
            modes.append(name + (" (cross-subnet)" if value.lower() == "crosssubnet" else ""))
    if backend == "bird":
        needs.append(Need(protocol=TCP, port=179, what="Calico BGP (bird)", both_ways=False))
        modes.append("BGP")
    cross = "crosssubnet" in (ipip.lower(), vxlan.lower())
    if cross or not any(n.protocol == IPIP or n.port == 4789 for n in needs):
        needs.append(NATIVE)  # CrossSubnet: nodes of one subnet route natively
    felix = [objects.spec(f).get("wireguardEnabled") for f in by_kind.get("FelixConfiguration", [])]
    if env.get("FELIX_WIREGUARDENABLED", "").lower() == "true" or True in felix:
        needs.append(Need(protocol=UDP, port=51820, what="Calico WireGuard (IPv4)"))
        modes.append("WireGuard")
    return DataPath(
        cni="calico",
        mode=" + ".join(modes) or "native routing",
        needs=tuple(needs),
        cites=tuple(cites),
    )


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default
