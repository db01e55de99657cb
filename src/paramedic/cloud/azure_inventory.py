"""What the az responses say: which NIC holds an address, which NSGs guard it (its own and its
subnet's), and what the service tags of an NSG rule stand for here.

Resource ids are compared case-insensitively, as Azure treats them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.cloud import model
from paramedic.evidence import model as evidence_model

LOAD_BALANCER = "168.63.129.16"
"""The platform address the AzureLoadBalancer tag stands for (health probes)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Nic:
    name: str
    id: str
    addresses: tuple[str, ...]
    subnets: frozenset[str]
    nsg: str
    asgs: frozenset[str]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    nics: tuple[Nic, ...]
    nsgs: tuple[tuple[Mapping[str, Any], str], ...]
    vnet_prefixes: tuple[str, ...]
    has_nsgs: bool
    subnet_prefixes: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """subnet id (lowercase) -> its address prefixes, from `az network vnet list`."""

    def prefixes_of(self, nic: Nic) -> tuple[str, ...]:
        """The address prefixes of the subnets `nic` sits in ('' when not listed)."""
        return tuple(p for s in sorted(nic.subnets) for p in self.subnet_prefixes.get(s, ()))

    def nic_holding(self, ip: str) -> Nic | None:
        return next((n for n in self.nics if ip in n.addresses), None)

    def nsg_of_nic(self, nic: Nic) -> tuple[Mapping[str, Any], str] | None:
        for nsg, source in self.nsgs:
            if nic.nsg and str(nsg.get("id", "")).lower() == nic.nsg:
                return nsg, source
            if nic.id in {str(n.get("id", "")).lower() for n in nsg.get("networkInterfaces") or []}:
                return nsg, source
        return None

    def nsg_of_subnet(self, nic: Nic) -> tuple[Mapping[str, Any], str] | None:
        for nsg, source in self.nsgs:
            if nic.subnets & {str(s.get("id", "")).lower() for s in nsg.get("subnets") or []}:
                return nsg, source
        return None

    def prefix_holds(self, prefix: str, ip: str) -> bool | None:
        """Whether an NSG rule's address prefix (CIDR, '*' or service tag) holds `ip`."""
        tag = prefix.strip()
        if tag in ("*", "Any"):  # both IP versions; 0.0.0.0/0 and ::/0 hold one each (below)
            return True
        if tag == "AzureLoadBalancer":
            return ip == LOAD_BALANCER
        if tag == "VirtualNetwork":
            return self.in_vnet(ip)
        if tag == "Internet":
            inside = self.in_vnet(ip)
            addr = model.address(ip)
            if inside is None or addr is None:
                return None
            return not inside and addr.is_global
        if model.network(tag) is not None:
            return model.in_any(ip, [tag]) is not None
        return None  # another service tag (Sql, Storage, AzureCloud, ...)

    def in_vnet(self, ip: str) -> bool | None:
        if self.vnet_prefixes:
            return model.in_any(ip, self.vnet_prefixes) is not None
        if self.nic_holding(ip) is not None:
            return True
        addr = model.address(ip)
        if addr is None:
            return None
        return False if addr.is_global else None


def build(docs: Iterable[evidence_model.CloudDocument]) -> Inventory:
    nics: list[Nic] = []
    nsgs: list[tuple[Mapping[str, Any], str]] = []
    prefixes: list[str] = []
    subnets: dict[str, tuple[str, ...]] = {}
    has_nsgs = False
    for doc in docs:
        if doc.provider != "azure":
            continue
        for item in doc.items:
            if doc.kind == "networkSecurityGroups":
                nsgs.append((item, doc.source))
            elif doc.kind == "networkInterfaces":
                nics.append(_nic(item))
            elif doc.kind == "virtualNetworks":
                prefixes += (item.get("addressSpace") or {}).get("addressPrefixes") or []
                for sub in item.get("subnets") or []:
                    own = [sub["addressPrefix"]] if sub.get("addressPrefix") else []
                    subnets[str(sub.get("id", "")).lower()] = (
                        *own,
                        *(sub.get("addressPrefixes") or []),
                    )
        has_nsgs = has_nsgs or doc.kind == "networkSecurityGroups"
    return Inventory(
        nics=tuple(nics),
        nsgs=tuple(nsgs),
        vnet_prefixes=tuple(prefixes),
        has_nsgs=has_nsgs,
        subnet_prefixes=subnets,
    )


def resource_group(resource: Mapping[str, Any]) -> str:
    """The resource group named in a resource id (/subscriptions/…/resourceGroups/RG/…)."""
    parts = str(resource.get("id", "")).split("/")
    lowered = [p.lower() for p in parts]
    if "resourcegroups" in lowered:
        i = lowered.index("resourcegroups")
        if i + 1 < len(parts):
            return parts[i + 1]
    return ""


def _nic(item: Mapping[str, Any]) -> Nic:
    addresses, subnets, asgs = [], set(), set()
    for conf in item.get("ipConfigurations") or []:
        ip = conf.get("privateIPAddress")
        if isinstance(ip, str) and model.address(ip) is not None:
            addresses.append(ip)
        subnet = (conf.get("subnet") or {}).get("id")
        if subnet:
            subnets.add(str(subnet).lower())
        asgs |= {str(a.get("id", "")).lower() for a in conf.get("applicationSecurityGroups") or []}
    return Nic(
        name=str(item["name"]),
        id=str(item.get("id", "")).lower(),
        addresses=tuple(addresses),
        subnets=frozenset(subnets),
        nsg=str((item.get("networkSecurityGroup") or {}).get("id", "")).lower(),
        asgs=frozenset(asgs),
    )
