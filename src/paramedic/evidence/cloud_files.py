"""Recognise the cloud CLI responses of a bundle's `cloud/<provider>/*.json` (DESIGN.md §2).

A file's name is free; its top-level keys say what it holds (`{"SecurityGroups": [...]}` is
`aws ec2 describe-security-groups`, a gcloud list is an array of `compute#firewall` items, an az
list an array of `Microsoft.Network/...` items). Every field the evaluators in `paramedic.cloud`
read is type-checked here, so a truncated or hand-edited file is one `BundleError` line naming the
file and the field, never a traceback later. Azure's ARM `properties` wrapper (the REST shape) is
lifted so both shapes read alike.
"""

from __future__ import annotations

import json
import re
from typing import Any

from paramedic import errors
from paramedic.evidence import documents, model

PROVIDERS = ("aws", "gcp", "azure")

Schema = dict[str, Any]
"""field -> type, or (list, Schema) for a list of mappings, or (dict, Schema), or (list, str)."""

_STRS = (list, str)
_PERMISSION: Schema = {
    "IpProtocol": str,
    "FromPort": int,
    "ToPort": int,
    "IpRanges": (list, {"CidrIp": str}),
    "Ipv6Ranges": (list, {"CidrIpv6": str}),
    "PrefixListIds": (list, {"PrefixListId": str}),
    "UserIdGroupPairs": (list, {"GroupId": str}),
}
_ENI: Schema = {
    "NetworkInterfaceId": str,
    "SubnetId": str,
    "VpcId": str,
    "PrivateIpAddress": str,
    "PrivateIpAddresses": (list, {"PrivateIpAddress": str}),
    "Ipv6Addresses": (list, {"Ipv6Address": str}),
    "Groups": (list, {"GroupId": str}),
    "Association": (dict, {"PublicIp": str}),
}
# (top-level key, kind, id field, item schema)
_AWS: tuple[tuple[str, str, str, Schema], ...] = (
    (
        "SecurityGroups",
        "SecurityGroups",
        "GroupId",
        {
            "GroupName": str,
            "VpcId": str,
            "IpPermissions": (list, _PERMISSION),
            "IpPermissionsEgress": (list, _PERMISSION),
        },
    ),
    ("NetworkInterfaces", "NetworkInterfaces", "NetworkInterfaceId", _ENI),
    (
        "NetworkAcls",
        "NetworkAcls",
        "NetworkAclId",
        {
            "VpcId": str,
            "IsDefault": bool,
            "Associations": (list, {"SubnetId": str}),
            "Entries": (
                list,
                {
                    "RuleNumber": int,
                    "Egress": bool,
                    "RuleAction": str,
                    "Protocol": str,
                    "CidrBlock": str,
                    "Ipv6CidrBlock": str,
                    "PortRange": (dict, {"From": int, "To": int}),
                },
            ),
        },
    ),
    (
        "Reservations",
        "Reservations",
        "",
        {"Instances": (list, {"InstanceId": str, "NetworkInterfaces": (list, _ENI)})},
    ),
    (
        "DBInstances",
        "DBInstances",
        "DBInstanceIdentifier",
        {
            "Endpoint": (dict, {"Address": str, "Port": int}),
            "VpcSecurityGroups": (list, {"VpcSecurityGroupId": str, "Status": str}),
            "DBSubnetGroup": (dict, {"Subnets": (list, {"SubnetIdentifier": str})}),
        },
    ),
    ("PrefixLists", "PrefixLists", "PrefixListId", {"Cidrs": _STRS}),
    ("Entries", "PrefixListEntries", "", {"Cidr": str}),
    (
        "NatGateways",
        "NatGateways",
        "NatGatewayId",
        {"NatGatewayAddresses": (list, {"PublicIp": str, "PrivateIp": str})},
    ),
)
_GCP: dict[str, Schema] = {
    "compute#firewall": {
        "name": str,
        "network": str,
        "priority": int,
        "direction": str,
        "disabled": bool,
        "allowed": (list, {"IPProtocol": str, "ports": _STRS}),
        "denied": (list, {"IPProtocol": str, "ports": _STRS}),
        "sourceRanges": _STRS,
        "destinationRanges": _STRS,
        "sourceTags": _STRS,
        "targetTags": _STRS,
        "sourceServiceAccounts": _STRS,
        "targetServiceAccounts": _STRS,
    },
    "compute#instance": {
        "name": str,
        "networkInterfaces": (
            list,
            {
                "networkIP": str,
                "network": str,
                "ipv6Address": str,
                "accessConfigs": (list, {"natIP": str}),
                "ipv6AccessConfigs": (list, {"externalIpv6": str}),
            },
        ),
        "tags": (dict, {"items": _STRS}),
        "serviceAccounts": (list, {"email": str}),
    },
}
_AZ_RULE: Schema = {
    "name": str,
    "priority": int,
    "direction": str,
    "access": str,
    "protocol": str,
    "sourceAddressPrefix": str,
    "sourceAddressPrefixes": _STRS,
    "destinationAddressPrefix": str,
    "destinationAddressPrefixes": _STRS,
    "destinationPortRange": str,
    "destinationPortRanges": _STRS,
    "sourceApplicationSecurityGroups": (list, {"id": str}),
    "destinationApplicationSecurityGroups": (list, {"id": str}),
}
_AZURE: dict[str, Schema] = {
    "networkSecurityGroups": {
        "name": str,
        "resourceGroup": str,
        "securityRules": (list, _AZ_RULE),
        "defaultSecurityRules": (list, _AZ_RULE),
        "subnets": (list, {"id": str}),
        "networkInterfaces": (list, {"id": str}),
    },
    "networkInterfaces": {
        "name": str,
        "networkSecurityGroup": (dict, {"id": str}),
        "ipConfigurations": (
            list,
            {
                "privateIPAddress": str,
                "subnet": (dict, {"id": str}),
                "applicationSecurityGroups": (list, {"id": str}),
            },
        ),
    },
    "virtualNetworks": {
        "name": str,
        "addressSpace": (dict, {"addressPrefixes": _STRS}),
        "subnets": (list, {"id": str, "addressPrefix": str, "addressPrefixes": _STRS}),
    },
}
_PREFIX_LIST_ID = re.compile(r"pl-[0-9a-f]+")


def parse(provider: str, rel: str, data: bytes, *, where: str) -> model.CloudDocument:
    """The document in one file `rel` (cloud/<provider>/<name>.json); BundleError when the JSON
    is broken, the shape unknown, or a field of the wrong type."""
    doc = documents.decode_json(data, where=where)
    if provider == "aws":
        return _aws(doc, rel, where)
    if provider in ("gcp", "azure"):
        return _listed(provider, doc, rel, where)
    raise errors.BundleError(
        f"{where}: unknown cloud provider folder {provider!r} (aws, gcp, azure)"
    )


def _aws(doc: Any, rel: str, where: str) -> model.CloudDocument:
    if not isinstance(doc, dict):
        raise errors.BundleError(f"{where}: expected an aws CLI response (a JSON object)")
    for top, kind, id_field, schema in _AWS:
        if top not in doc:
            continue
        raw = _items(doc[top], f"{where}: {top}")
        items: list[dict[str, Any]] = []
        for i, item in enumerate(raw):
            at = f"{where}: {top}[{i}]"
            _check(item, {id_field: str} if id_field else {}, at, required=id_field)
            _check(item, schema, at)
            items.append(item)
        key = ""
        if kind == "PrefixListEntries":
            found = _PREFIX_LIST_ID.search(rel.rsplit("/", 1)[-1])
            if found is None:
                raise errors.BundleError(
                    f"{where}: prefix list entries without the list's id: name the file after "
                    "it (cloud/aws/pl-0123abcd.json)"
                )
            key = found.group(0)
        return model.CloudDocument(
            provider="aws", kind=kind, source=rel, items=tuple(items), key=key
        )
    keys = ", ".join(sorted(str(k) for k in doc)[:5]) or "none"
    raise errors.BundleError(
        f"{where}: not a known aws CLI response (top-level keys: {keys}; expected one of "
        + ", ".join(top for top, *_ in _AWS)
        + ")"
    )


def _listed(provider: str, doc: Any, rel: str, where: str) -> model.CloudDocument:
    """gcloud and az print a list of resources (or one resource, for describe/show)."""
    raw = _items(doc if isinstance(doc, list) else [doc], where)
    shapes = _GCP if provider == "gcp" else _AZURE
    kinds = set()
    items = []
    for i, item in enumerate(raw):
        at = f"{where}: item {i}"
        if provider == "azure":
            item = _lift_properties(item)
            kind = str(item.get("type", "")).rsplit("/", 1)[-1]
        else:
            kind = str(item.get("kind", ""))
        if kind not in shapes:
            field = "type" if provider == "azure" else "kind"
            raise errors.BundleError(
                f"{at}: not a known {provider} resource ({field} {item.get(field)!r}; expected "
                + ", ".join(shapes)
                + ")"
            )
        _check(item, {"name": str}, at, required="name")
        _check(item, shapes[kind], at)
        kinds.add(kind)
        items.append(item)
    if len(kinds) > 1:
        raise errors.BundleError(f"{where}: mixes {' and '.join(sorted(kinds))}; one list a file")
    return model.CloudDocument(
        provider=provider, kind=kinds.pop() if kinds else "", source=rel, items=tuple(items)
    )


def render(doc: model.CloudDocument) -> bytes:
    """The file a document was read from, as its CLI prints it (what `capture` writes)."""
    if doc.provider == "aws":
        top = next(t for t, kind, *_ in _AWS if kind == doc.kind)
        body: Any = {top: list(doc.items)}
    else:
        body = list(doc.items)
    return (json.dumps(body, indent=4, default=str) + "\n").encode()


def _lift_properties(item: dict[str, Any]) -> dict[str, Any]:
    props = item.get("properties")
    if not isinstance(props, dict):
        return item
    out = {**props, **{k: v for k, v in item.items() if k != "properties"}}
    for field in ("securityRules", "defaultSecurityRules", "ipConfigurations"):
        if isinstance(out.get(field), list):
            out[field] = [_lift_properties(r) if isinstance(r, dict) else r for r in out[field]]
    return out


def _items(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise errors.BundleError(f"{where}: expected a list of objects")
    return value


def _check(item: Any, schema: Schema, where: str, *, required: str = "") -> None:
    if not isinstance(item, dict):
        raise errors.BundleError(f"{where}: expected an object")
    if required and not isinstance(item.get(required), str):
        raise errors.BundleError(f"{where}: no {required!r}")
    for field, expected in schema.items():
        value = item.get(field)
        if value is None:
            continue
        at = f"{where}.{field}"
        if isinstance(expected, tuple):
            container, inner = expected
            if not isinstance(value, container):
                raise errors.BundleError(f"{at}: expected a {container.__name__}")
            if container is dict:
                _check(value, inner, at)
            elif inner is str:
                if not all(isinstance(v, str) for v in value):
                    raise errors.BundleError(f"{at}: expected a list of strings")
            else:
                for i, element in enumerate(value):
                    _check(element, inner, f"{at}[{i}]")
        elif expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise errors.BundleError(f"{at}: expected a number")
        elif expected is not int and not isinstance(value, expected):
            raise errors.BundleError(f"{at}: expected a {expected.__name__}")
