"""`firewall` with the cloud's own rules: the outside database behind an AWS security group, a GCP
firewall rule or an Azure NSG, and the nodes' rules for the CNI's data path between nodes. Each
names the deciding rule and the exact command; what cannot be read is inconclusive."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import checkctx

from paramedic.checks import firewall, model
from paramedic.evidence import cloud_files, demos

ALLOWED = model.Finding(check="network-policy", verdict=model.Verdict.RULED_OUT, summary="ok")
NET = "https://www.googleapis.com/compute/v1/projects/shop/global/networks/prod"
SUB = "/subscriptions/0000/resourceGroups/rg-prod/providers/Microsoft.Network"


def _doc(provider: str, body: Any, name: str):
    rel = f"cloud/{provider}/{name}"
    return cloud_files.parse(provider, rel, json.dumps(body).encode(), where=rel)


def _context(demo: str, docs=None, edit=None) -> model.Context:
    ctx = checkctx.context(demo, edit, earlier={"network-policy": ALLOWED})
    cloud = demos.load(demo).cloud if docs is None else tuple(docs)
    return dataclasses.replace(ctx, evidence=ctx.evidence.with_cloud(cloud))


def _aws_docs(edit=None):
    docs = [copy.deepcopy(d) for d in demos.load("security-group-rds").cloud]
    return [edit(d) if edit else d for d in docs]


def test_rds_security_group_without_the_nodes_is_the_cause_with_the_group_reference():
    finding = firewall.run(_context("security-group-rds"))
    assert (finding.verdict, finding.confidence) == (model.Verdict.CAUSE, model.Confidence.HIGH)
    assert "sg-04d2a7c9e1b3f5a60 tcp 5432 from 10.0.0.0/24" in finding.summary
    assert finding.fix is not None
    assert finding.fix.steps[0].content == (
        "aws ec2 authorize-security-group-ingress --group-id sg-04d2a7c9e1b3f5a60 --protocol tcp "
        "--port 5432 --source-group sg-0b7e4c1d2a9f36e51"
    )
    assert finding.fix.rollback.startswith("aws ec2 revoke-security-group-ingress")
    assert "follows the nodes as they are replaced" in finding.why
    assert any(c.source == "cloud/aws/security-groups.json" for c in finding.evidence)


def _with_rule(doc):
    if doc.kind == "SecurityGroups":
        items = copy.deepcopy(list(doc.items))
        items[1]["IpPermissions"][0]["UserIdGroupPairs"] = [{"GroupId": "sg-0b7e4c1d2a9f36e51"}]
        return dataclasses.replace(doc, items=tuple(items))
    return doc


def test_rules_that_allow_leave_the_timeouts_to_the_drop_elsewhere_and_say_so():
    finding = firewall.run(_context("security-group-rds", _aws_docs(_with_rule)))
    assert finding.verdict is model.Verdict.CAUSE  # the clients still time out
    assert any("aws 10.0.1.11 → 10.0.3.30:5432/tcp: allow" in c.text for c in finding.evidence)


def test_a_missing_network_acl_file_is_named_not_assumed_open():
    docs = [d for d in _aws_docs(_with_rule) if d.kind != "NetworkAcls"]
    finding = firewall.run(_context("security-group-rds", docs))
    assert any("aws ec2 describe-network-acls" in c.text for c in finding.evidence)


def _gcp_docs(rules):
    instances = [
        {
            "kind": "compute#instance",
            "name": n,
            "tags": {"items": t},
            "networkInterfaces": [{"network": NET, "networkIP": ip}],
        }
        for n, ip, t in (
            ("gke-prod-node-a", "10.0.1.11", ["gke-prod-node"]),
            ("gke-prod-node-b", "10.0.1.12", ["gke-prod-node"]),
            ("profile-db-vm", "10.0.3.30", ["postgres"]),
        )
    ]
    return [_doc("gcp", rules, "firewall.json"), _doc("gcp", instances, "instances.json")]


def test_gcp_deny_rule_is_the_cause_with_a_gcloud_rule_before_it():
    rules = [
        {
            "kind": "compute#firewall",
            "name": "deny-db-from-gke",
            "network": NET,
            "priority": 900,
            "direction": "INGRESS",
            "denied": [{"IPProtocol": "tcp", "ports": ["5432"]}],
            "sourceRanges": ["10.0.1.0/24"],
            "targetTags": ["postgres"],
        },
        {
            "kind": "compute#firewall",
            "name": "allow-db",
            "network": NET,
            "priority": 1000,
            "direction": "INGRESS",
            "allowed": [{"IPProtocol": "tcp", "ports": ["5432"]}],
            "sourceTags": ["gke-prod-node"],
            "targetTags": ["postgres"],
        },
    ]
    finding = firewall.run(_context("security-group-rds", _gcp_docs(rules)))
    assert finding.verdict is model.Verdict.CAUSE
    assert "deny-db-from-gke (priority 900" in finding.summary
    assert finding.fix is not None
    assert finding.fix.steps[0].content == (
        "gcloud compute firewall-rules create allow-user-service-to-profile-db-tcp-5432 \\\n"
        "  --network=prod \\\n  --direction=INGRESS \\\n  --action=ALLOW \\\n"
        "  --rules=tcp:5432 \\\n  --priority=899 \\\n  --source-tags=gke-prod-node \\\n"
        "  --target-tags=postgres"
    )


def test_gcp_implied_deny_is_cited_when_no_rule_matches():
    finding = firewall.run(
        _context(
            "security-group-rds",
            _gcp_docs(
                [
                    {
                        "kind": "compute#firewall",
                        "name": "ssh",
                        "network": NET,
                        "direction": "INGRESS",
                        "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
                    },
                ]
            ),
        )
    )
    assert finding.verdict is model.Verdict.CAUSE
    assert "implied deny ingress (priority 65535)" in finding.summary


def test_azure_nsg_deny_is_the_cause_with_an_az_rule_before_it():
    nsg = {
        "type": "Microsoft.Network/networkSecurityGroups",
        "name": "nsg-db",
        "id": f"{SUB}/networkSecurityGroups/nsg-db",
        "resourceGroup": "rg-prod",
        "subnets": [{"id": f"{SUB}/virtualNetworks/vnet/subnets/db"}],
        "securityRules": [
            {
                "name": "deny-vnet",
                "priority": 4000,
                "direction": "Inbound",
                "access": "Deny",
                "protocol": "*",
                "sourceAddressPrefix": "VirtualNetwork",
                "destinationAddressPrefix": "*",
                "destinationPortRange": "*",
            }
        ],
    }
    nics = [
        {
            "type": "Microsoft.Network/networkInterfaces",
            "name": n,
            "id": f"{SUB}/nic/{n}",
            "ipConfigurations": [
                {
                    "privateIPAddress": ip,
                    "subnet": {"id": f"{SUB}/virtualNetworks/vnet/subnets/{s}"},
                }
            ],
        }
        for n, ip, s in (
            ("aks-a", "10.0.1.11", "aks"),
            ("aks-b", "10.0.1.12", "aks"),
            ("db", "10.0.3.30", "db"),
        )
    ]
    docs = [_doc("azure", [nsg], "nsg.json"), _doc("azure", nics, "nic.json")]
    finding = firewall.run(_context("security-group-rds", docs))
    assert finding.verdict is model.Verdict.CAUSE
    assert "deny-vnet (priority 4000" in finding.summary
    assert finding.fix is not None
    assert finding.fix.steps[0].content.startswith(
        "az network nsg rule create --resource-group rg-prod --nsg-name nsg-db "
        "--name allow-user-service-to-profile-db-tcp-5432 \\\n  --priority 3990 --direction "
        "Inbound --access Allow --protocol Tcp"
    )


def test_node_to_node_vxlan_blocked_by_the_node_group_is_the_cause():
    finding = firewall.run(_context("node-to-node-vxlan"))
    assert (finding.verdict, finding.confidence) == (model.Verdict.CAUSE, model.Confidence.HIGH)
    assert "drop UDP 4789 (calico VXLAN) from node-a to node-b" in finding.summary
    assert finding.fix is not None
    assert finding.fix.steps[0].content == (
        "aws ec2 authorize-security-group-ingress --group-id sg-0c5a3e1f7b9d2e480 --protocol udp "
        "--port 4789 --source-group sg-0c5a3e1f7b9d2e480"
    )
    assert any("log no timeout; all 1 on other nodes time out" in c.text for c in finding.evidence)


def test_node_to_node_allowed_by_the_rules_is_ruled_out():
    def open_vxlan(doc):
        if doc.kind != "SecurityGroups":
            return doc
        items = copy.deepcopy(list(doc.items))
        items[0]["IpPermissions"].append(
            {
                "IpProtocol": "udp",
                "FromPort": 4789,
                "ToPort": 4789,
                "UserIdGroupPairs": [{"GroupId": "sg-0c5a3e1f7b9d2e480"}],
            }
        )
        return dataclasses.replace(doc, items=tuple(items))

    docs = [open_vxlan(d) for d in demos.load("node-to-node-vxlan").cloud]
    finding = firewall.run(_context("node-to-node-vxlan", docs))
    assert finding.verdict is model.Verdict.RULED_OUT
    assert "reach the database's node on UDP 4789" in finding.summary


def test_node_to_node_pattern_without_rules_is_a_likely_cause_naming_how_to_read_them():
    finding = firewall.run(_context("node-to-node-vxlan", []))
    assert (finding.verdict, finding.confidence) == (model.Verdict.CAUSE, model.Confidence.MEDIUM)
    assert "likely lacks UDP 4789 (VXLAN)" in finding.summary
    assert "--cloud aws" in finding.missing


def _flannel(objects):
    for obj in objects:
        if obj.get("kind") == "DaemonSet":
            obj["metadata"]["name"] = "kube-flannel-ds"
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kube-flannel-cfg", "namespace": "kube-system"},
            "data": {"net-conf.json": '{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}'},
        }
    )


def test_the_data_path_decides_the_port_flannel_vxlan_needs_8472():
    finding = firewall.run(_context("node-to-node-vxlan", edit=_flannel))
    assert finding.verdict is model.Verdict.CAUSE
    assert "UDP 8472 (flannel VXLAN)" in finding.summary


def test_all_clients_on_the_database_node_rule_out_the_node_path():
    def same_node(objects):
        for obj in objects:
            if obj.get("kind") == "Pod" and obj["metadata"]["name"].startswith("user-service"):
                obj["spec"]["nodeName"] = "node-b"
                obj["status"]["hostIP"] = "10.0.1.12"

    finding = firewall.run(_context("node-to-node-vxlan", edit=same_node))
    assert finding.verdict is model.Verdict.RULED_OUT
    assert finding.summary.startswith("every client runs on the database's node")
