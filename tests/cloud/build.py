"""Cloud CLI responses for the evaluator tests, shaped as the CLIs print them, parsed through the
same loader a bundle goes through (so a shape the loader refuses cannot sneak into a test)."""

from __future__ import annotations

import json
from typing import Any

from paramedic.evidence import cloud_files
from paramedic.evidence import model as evidence_model

NODE_A, NODE_B, DB = "10.0.1.10", "10.0.2.20", "10.0.3.30"


def doc(provider: str, body: Any, name: str = "x.json") -> evidence_model.CloudDocument:
    rel = f"cloud/{provider}/{name}"
    return cloud_files.parse(provider, rel, json.dumps(body).encode(), where=rel)


def perm(
    proto: str = "tcp",
    ports: tuple[int, int] | None = (5432, 5432),
    *,
    cidrs: tuple[str, ...] = (),
    v6: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    prefix_lists: tuple[str, ...] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "IpProtocol": proto,
        "IpRanges": [{"CidrIp": c} for c in cidrs],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in v6],
        "PrefixListIds": [{"PrefixListId": p} for p in prefix_lists],
        "UserIdGroupPairs": [{"GroupId": g, "UserId": "123456789012"} for g in groups],
    }
    if ports is not None:
        out["FromPort"], out["ToPort"] = ports
    return out


EGRESS_ALL = perm("-1", None, cidrs=("0.0.0.0/0",), v6=("::/0",))


def group(gid: str, ingress: list[dict[str, Any]], egress: list[dict[str, Any]] | None = None):
    return {
        "GroupId": gid,
        "GroupName": gid,
        "VpcId": "vpc-1",
        "IpPermissions": ingress,
        "IpPermissionsEgress": [EGRESS_ALL] if egress is None else egress,
    }


def eni(eni_id: str, ip: str, groups: tuple[str, ...], subnet: str, *, v6: str = "") -> dict:
    return {
        "NetworkInterfaceId": eni_id,
        "SubnetId": subnet,
        "VpcId": "vpc-1",
        "PrivateIpAddress": ip,
        "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}],
        "Ipv6Addresses": [{"Ipv6Address": v6}] if v6 else [],
        "Groups": [{"GroupId": g, "GroupName": g} for g in groups],
        "Attachment": {"InstanceId": f"i-{eni_id[4:]}"},
    }


def entry(
    n: int,
    action: str,
    *,
    egress: bool,
    cidr: str = "0.0.0.0/0",
    proto: str = "6",
    ports: tuple[int, int] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "RuleNumber": n,
        "RuleAction": action,
        "Egress": egress,
        "Protocol": proto,
    }
    out["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
    if ports is not None:
        out["PortRange"] = {"From": ports[0], "To": ports[1]}
    return out


def acl(
    acl_id: str, subnets: tuple[str, ...], entries: list[dict[str, Any]], *, default: bool = False
) -> dict[str, Any]:
    star = [entry(32767, "deny", egress=e, proto="-1") for e in (False, True)]
    return {
        "NetworkAclId": acl_id,
        "VpcId": "vpc-1",
        "IsDefault": default,
        "Associations": [{"SubnetId": s, "NetworkAclId": acl_id} for s in subnets],
        "Entries": entries + star,
    }


OPEN_ACL = [entry(100, "allow", egress=e, proto="-1") for e in (False, True)]
