"""Fix commands: exact, one per denying layer, for every client, before the rule that denied."""

from __future__ import annotations

from paramedic.cloud import aws, azure, commands, gcp, model

from . import test_azure, test_gcp
from .build import DB, NODE_A, NODE_B, OPEN_ACL, acl, doc, eni, entry, group, perm


def _aws_docs(db_entries=None, db_ingress=None):
    enis = [
        eni("eni-a", NODE_A, ("sg-nodes", "sg-a"), "subnet-a"),
        eni("eni-b", NODE_B, ("sg-nodes",), "subnet-b"),
        eni("eni-db", DB, ("sg-db",), "subnet-db"),
    ]
    acls = [acl("acl-nodes", ("subnet-a", "subnet-b"), list(OPEN_ACL), default=True)]
    if db_entries is not None:
        acls.append(acl("acl-db", ("subnet-db",), db_entries))
    return [
        doc(
            "aws",
            {
                "SecurityGroups": [
                    group("sg-nodes", []),
                    group("sg-a", []),
                    group("sg-db", db_ingress or []),
                ]
            },
        ),
        doc("aws", {"NetworkInterfaces": enis}),
        doc("aws", {"NetworkAcls": acls}),
    ]


def _answers(evaluate, docs, port=5432, protocol=model.TCP):
    return [
        evaluate(docs, model.Flow(src=ip, dst=DB, port=port, protocol=protocol))
        for ip in (NODE_A, NODE_B)
    ]


def test_security_group_fix_references_the_group_every_node_carries():
    [cmd] = commands.for_answers(_answers(aws.evaluate, _aws_docs()), label="user-service")
    assert cmd.run == (
        "aws ec2 authorize-security-group-ingress --group-id sg-db "
        "--protocol tcp --port 5432 --source-group sg-nodes"
    )
    assert cmd.undo == cmd.run.replace("authorize-", "revoke-")
    assert "describe-security-groups --group-ids sg-db" in cmd.verify
    assert "follows the nodes" in cmd.why


def test_ipip_security_group_fix_uses_the_protocol_number():
    answers = _answers(aws.evaluate, _aws_docs(), protocol=model.IPIP, port=None)
    [cmd] = commands.for_answers(answers, label="x")
    assert cmd.run.endswith("--group-id sg-db --protocol 4 --source-group sg-nodes")


def test_acl_fix_is_an_entry_pair_before_the_denying_entry():
    db = [
        entry(100, "deny", egress=False, ports=(5432, 5432), cidr="10.0.0.0/16"),
        entry(200, "allow", egress=False, proto="-1"),
    ]
    [cmd] = commands.for_answers(
        _answers(aws.evaluate, _aws_docs(db, [perm(groups=("sg-nodes",))])), label="x"
    )
    lines = cmd.run.splitlines()
    assert lines == [
        "aws ec2 create-network-acl-entry --network-acl-id acl-db --ingress --rule-number 98 "
        "--protocol 6 --port-range From=5432,To=5432 --cidr-block 10.0.1.10/32 --rule-action allow",
        "aws ec2 create-network-acl-entry --network-acl-id acl-db --ingress --rule-number 99 "
        "--protocol 6 --port-range From=5432,To=5432 --cidr-block 10.0.2.20/32 --rule-action allow",
        "aws ec2 create-network-acl-entry --network-acl-id acl-db --egress --rule-number 10 "
        "--protocol 6 --port-range From=1024,To=65535 --cidr-block 10.0.1.10/32 "
        "--rule-action allow",
        "aws ec2 create-network-acl-entry --network-acl-id acl-db --egress --rule-number 11 "
        "--protocol 6 --port-range From=1024,To=65535 --cidr-block 10.0.2.20/32 "
        "--rule-action allow",
    ]
    assert "delete-network-acl-entry --network-acl-id acl-db --ingress --rule-number 98" in cmd.undo
    assert "denied (rule 100 and *;" in cmd.why


def test_acl_fix_adds_only_the_direction_that_denies():
    db = [
        entry(100, "allow", egress=False, ports=(5432, 5432)),
        entry(100, "allow", egress=True, ports=(1024, 30000)),
    ]
    answers = _answers(aws.evaluate, _aws_docs(db, [perm(groups=("sg-nodes",))]))
    [cmd] = commands.for_answers(answers, label="x")
    assert "--ingress" not in cmd.run
    assert cmd.run.count("--egress --rule-number") == 2


def test_acl_fix_after_the_last_entry_when_the_default_denied():
    db = [entry(100, "allow", egress=False, ports=(22, 22))]
    [cmd] = commands.for_answers(
        _answers(aws.evaluate, _aws_docs(db, [perm(groups=("sg-nodes",))])), label="x"
    )
    assert "--rule-number 110 " in cmd.run and "--rule-number 120 " not in cmd.run
    assert "--rule-number 111 " in cmd.run  # the second client
    assert "denied (rule * and *;" in cmd.why


def test_gcp_fix_names_source_tag_target_tag_and_a_priority_before_the_deny():
    instances = [
        test_gcp.instance("node-a", NODE_A, ("gke-node",)),
        test_gcp.instance("node-b", NODE_B, ("gke-node", "x")),
        test_gcp.instance("db-vm", DB, ("postgres",)),
    ]
    docs = [
        doc("gcp", [test_gcp.rule("deny-pg", action="denied", priority=900)]),
        doc("gcp", instances, "vm.json"),
    ]
    [cmd] = commands.for_answers(_answers(gcp.evaluate, docs), label="user-service to profile-db")
    assert cmd.run == (
        "gcloud compute firewall-rules create allow-user-service-to-profile-db-tcp-5432 \\\n"
        "  --network=prod \\\n  --direction=INGRESS \\\n  --action=ALLOW \\\n"
        "  --rules=tcp:5432 \\\n  --priority=899 \\\n  --source-tags=gke-node \\\n"
        "  --target-tags=postgres"
    )
    assert cmd.undo == (
        "gcloud compute firewall-rules delete allow-user-service-to-profile-db-tcp-5432 --quiet"
    )


def test_azure_fix_is_a_rule_before_the_deny_in_that_nsg():
    answers = [
        test_azure.answer(
            [test_azure.rule("deny-pg", 300, access="Deny"), test_azure.rule("x", 290, port="22")]
        )
    ]
    [cmd] = commands.for_answers(answers, label="user-service")
    assert cmd.run == (
        "az network nsg rule create --resource-group rg-prod --nsg-name nsg-db-subnet "
        "--name allow-user-service-tcp-5432 \\\n"
        "  --priority 280 --direction Inbound --access Allow --protocol Tcp \\\n"
        "  --source-address-prefixes 10.0.1.10/32 --source-port-ranges '*' \\\n"
        "  --destination-address-prefixes 10.0.3.30/32 --destination-port-ranges 5432"
    )
    assert cmd.undo.startswith("az network nsg rule delete --resource-group rg-prod")
    assert azure.LIST_NSGS  # the module the answers came from


def test_allowed_flows_need_no_command():
    docs = _aws_docs(None, [perm(groups=("sg-nodes",))])
    assert commands.for_answers(_answers(aws.evaluate, docs), label="x") == []


def _azure_with_subnets(prefix: str) -> list[model.Answer]:
    """Two client nodes in the nodes subnet; the vnet list names that subnet's `prefix`."""
    from .build import doc

    a = test_azure
    nsgs = [a.nsg("nsg-db-subnet", [a.rule("deny-pg", 300, access="Deny")], subnets=(a.SUBNET_DB,))]
    nics = [
        a.nic("node-a-nic", "10.0.1.10", a.SUBNET_NODES),
        a.nic("node-b-nic", "10.0.1.11", a.SUBNET_NODES),
        a.nic("db-nic", "10.0.3.30", a.SUBNET_DB),
    ]
    vnet = {
        "type": "Microsoft.Network/virtualNetworks",
        "name": "vnet",
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [
            {"id": a.SUBNET_NODES, "name": "nodes", "addressPrefix": prefix},
            {"id": a.SUBNET_DB, "name": "db", "addressPrefix": "10.0.3.0/24"},
        ],
    }
    docs = [doc("azure", nsgs, "nsg.json"), doc("azure", nics, "nic.json")]
    docs.append(doc("azure", [vnet], "vnet.json"))
    return [
        azure.evaluate(docs, model.Flow(src=src, dst="10.0.3.30", port=5432))
        for src in ("10.0.1.10", "10.0.1.11")
    ]


def test_azure_fix_names_the_client_subnet_when_every_client_lies_in_it():
    [cmd] = commands.for_answers(_azure_with_subnets("10.0.1.0/24"), label="user-service")
    assert "--source-address-prefixes 10.0.1.0/24 --source-port-ranges" in cmd.run
    assert "follows the node pool as it scales" in cmd.why


def test_azure_fix_falls_back_to_each_client_address_outside_the_listed_subnet():
    [cmd] = commands.for_answers(_azure_with_subnets("10.0.1.8/31"), label="user-service")
    assert "--source-address-prefixes 10.0.1.10/32 10.0.1.11/32 --source-port-ranges" in cmd.run
    assert "node pool" not in cmd.why
