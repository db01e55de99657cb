"""What the AWS responses say about the network: which interface holds an address, which security
groups it carries, which subnet it is in, which network ACL guards that subnet, what a prefix
list holds, and the NAT gateways' addresses.

Interfaces come from `describe-network-interfaces` and `describe-instances` (the nodes, by their
private IPs); an RDS instance from `describe-db-instances` is found by its endpoint address and
stands for its interface when that is not listed (its groups are `VpcSecurityGroups`, its subnets
those of its subnet group).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.cloud import model
from paramedic.evidence import model as evidence_model


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Interface:
    label: str
    """'eni-0abc (instance i-0123)', 'RDS instance profile-db'."""
    addresses: tuple[str, ...]
    groups: tuple[str, ...]
    subnets: tuple[str, ...]
    """One subnet for an interface; an RDS instance without its interface: its subnet group's."""
    vpc: str
    source: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    interfaces: tuple[Interface, ...]
    groups: Mapping[str, tuple[Mapping[str, Any], str]]
    """GroupId -> (the group as described, its file)."""
    acls: tuple[tuple[Mapping[str, Any], str], ...]
    prefix_lists: Mapping[str, tuple[str, ...]]
    db_instances: tuple[tuple[Mapping[str, Any], str], ...]
    nat_addresses: tuple[str, ...]
    kinds: frozenset[str]
    """Which responses the evidence holds (so a missing one is named, not assumed empty)."""

    def holding(self, ip: str, name: str = "") -> Interface | None:
        """The interface that holds `ip`, else the RDS instance whose endpoint is `name` or `ip`."""
        for iface in self.interfaces:
            if ip in iface.addresses:
                return iface
        for db, source in self.db_instances:
            endpoint = db.get("Endpoint") or {}
            if endpoint.get("Address") in {ip, name} - {""}:
                return _db_interface(db, source)
        return None

    def carrying(self, group: str) -> list[Interface]:
        return [i for i in self.interfaces if group in i.groups]

    def acl_of(self, subnet: str, vpc: str) -> tuple[Mapping[str, Any], str] | None:
        """The network ACL associated with `subnet`, else the VPC's default one."""
        for acl, source in self.acls:
            if any(a.get("SubnetId") == subnet for a in acl.get("Associations") or []):
                return acl, source
        for acl, source in self.acls:
            if acl.get("IsDefault") and (not vpc or acl.get("VpcId") == vpc):
                return acl, source
        return None


def build(docs: Iterable[evidence_model.CloudDocument]) -> Inventory:
    interfaces: dict[str, Interface] = {}
    groups: dict[str, tuple[Mapping[str, Any], str]] = {}
    acls: list[tuple[Mapping[str, Any], str]] = []
    prefix: dict[str, tuple[str, ...]] = {}
    dbs: list[tuple[Mapping[str, Any], str]] = []
    nat: list[str] = []
    kinds = set()
    for doc in docs:
        if doc.provider != "aws":
            continue
        kinds.add(doc.kind)
        for item in doc.items:
            if doc.kind == "SecurityGroups":
                groups[item["GroupId"]] = (item, doc.source)
            elif doc.kind == "NetworkInterfaces":
                iface = _interface(item, doc.source, owner=_attached(item))
                interfaces[iface.label.split()[0]] = iface
            elif doc.kind == "Reservations":
                for instance in item.get("Instances") or []:
                    for eni in instance.get("NetworkInterfaces") or []:
                        eni_id = str(eni.get("NetworkInterfaceId", ""))
                        if eni_id not in interfaces:  # describe-network-interfaces says more
                            interfaces[eni_id] = _interface(
                                eni, doc.source, owner=f"instance {instance['InstanceId']}"
                            )
            elif doc.kind == "NetworkAcls":
                acls.append((item, doc.source))
            elif doc.kind == "PrefixLists":
                prefix[item["PrefixListId"]] = tuple(item.get("Cidrs") or ())
            elif doc.kind == "PrefixListEntries":
                prefix[doc.key] = (*prefix.get(doc.key, ()), str(item.get("Cidr", "")))
            elif doc.kind == "DBInstances":
                dbs.append((item, doc.source))
            elif doc.kind == "NatGateways":
                for a in item.get("NatGatewayAddresses") or []:
                    nat.extend(str(a[k]) for k in ("PublicIp", "PrivateIp") if a.get(k))
    return Inventory(
        interfaces=tuple(interfaces.values()),
        groups=groups,
        acls=tuple(acls),
        prefix_lists=prefix,
        db_instances=tuple(dbs),
        nat_addresses=tuple(nat),
        kinds=frozenset(kinds),
    )


def _attached(eni: Mapping[str, Any]) -> str:
    attachment = eni.get("Attachment")
    instance = attachment.get("InstanceId") if isinstance(attachment, dict) else None
    if instance:
        return f"instance {instance}"
    return str(eni.get("Description") or eni.get("InterfaceType") or "")


def _interface(eni: Mapping[str, Any], source: str, *, owner: str) -> Interface:
    addresses = [str(a["PrivateIpAddress"]) for a in eni.get("PrivateIpAddresses") or []]
    if eni.get("PrivateIpAddress") and eni["PrivateIpAddress"] not in addresses:
        addresses.insert(0, str(eni["PrivateIpAddress"]))
    addresses += [str(a["Ipv6Address"]) for a in eni.get("Ipv6Addresses") or []]
    public = (eni.get("Association") or {}).get("PublicIp")
    if public:
        addresses.append(str(public))
    eni_id = str(eni.get("NetworkInterfaceId", "?"))
    return Interface(
        label=f"{eni_id} ({owner})" if owner else eni_id,
        addresses=tuple(a for a in addresses if model.address(a) is not None),
        groups=tuple(str(g["GroupId"]) for g in eni.get("Groups") or [] if g.get("GroupId")),
        subnets=(str(eni["SubnetId"]),) if eni.get("SubnetId") else (),
        vpc=str(eni.get("VpcId") or ""),
        source=source,
    )


def _db_interface(db: Mapping[str, Any], source: str) -> Interface:
    subnet_group = db.get("DBSubnetGroup") or {}
    return Interface(
        label=f"RDS instance {db['DBInstanceIdentifier']}",
        addresses=(),
        groups=tuple(
            str(g["VpcSecurityGroupId"])
            for g in db.get("VpcSecurityGroups") or []
            if g.get("VpcSecurityGroupId") and g.get("Status", "active") == "active"
        ),
        subnets=tuple(
            str(s["SubnetIdentifier"])
            for s in subnet_group.get("Subnets") or []
            if s.get("SubnetIdentifier")
        ),
        vpc=str(subnet_group.get("VpcId") or ""),
        source=source,
    )
