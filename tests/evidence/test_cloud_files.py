"""Cloud files in a bundle: every known shape is recognised by its top-level keys, and a broken,
truncated or unknown file is one line naming it: a BundleError for a strict load, a gap in
diagnose (the rest of the bundle is still used)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from paramedic import errors
from paramedic.evidence import bundle, cloud_files

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "data"}}
SG = {"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [], "IpPermissionsEgress": []}]}


@pytest.mark.parametrize(
    ("provider", "body", "kind"),
    [
        ("aws", SG, "SecurityGroups"),
        ("aws", {"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1"}]}, "NetworkInterfaces"),
        ("aws", {"NetworkAcls": [{"NetworkAclId": "acl-1", "Entries": []}]}, "NetworkAcls"),
        ("aws", {"Reservations": [{"Instances": [{"InstanceId": "i-1"}]}]}, "Reservations"),
        ("aws", {"DBInstances": [{"DBInstanceIdentifier": "db"}]}, "DBInstances"),
        ("aws", {"NatGateways": [{"NatGatewayId": "nat-1"}]}, "NatGateways"),
        ("aws", {"PrefixLists": [{"PrefixListId": "pl-1", "Cidrs": []}]}, "PrefixLists"),
        ("gcp", [{"kind": "compute#firewall", "name": "fw"}], "compute#firewall"),
        ("gcp", {"kind": "compute#instance", "name": "vm"}, "compute#instance"),
        (
            "azure",
            [{"type": "Microsoft.Network/networkSecurityGroups", "name": "n"}],
            "networkSecurityGroups",
        ),
        (
            "azure",
            [{"type": "Microsoft.Network/networkInterfaces", "name": "n"}],
            "networkInterfaces",
        ),
    ],
)
def test_shapes_are_recognised_by_their_keys(provider, body, kind):
    rel = f"cloud/{provider}/anything.json"
    assert cloud_files.parse(provider, rel, json.dumps(body).encode(), where=rel).kind == kind


@pytest.mark.parametrize(
    ("provider", "data", "message"),
    [
        ("aws", b'{"SecurityGroups": [{"GroupId": "sg-1", "IpPerm', "line 1: invalid JSON"),
        ("aws", b'{"Vpcs": []}', "not a known aws CLI response (top-level keys: Vpcs"),
        ("aws", b"[]", "expected an aws CLI response"),
        ("aws", b'{"SecurityGroups": {"GroupId": "sg-1"}}', "SecurityGroups: expected a list"),
        ("aws", b'{"SecurityGroups": [{"IpPermissions": []}]}', "SecurityGroups[0]: no 'GroupId'"),
        (
            "aws",
            b'{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [{"FromPort": "x"}]}]}',
            "SecurityGroups[0].IpPermissions[0].FromPort: expected a number",
        ),
        ("aws", b'{"Entries": [{"Cidr": "10.0.0.0/8"}]}', "without the list's id"),
        ("gcp", b'[{"kind": "compute#network", "name": "n"}]', "not a known gcp resource"),
        (
            "gcp",
            b'[{"kind": "compute#firewall", "name": "f", "priority": "high"}]',
            "item 0.priority: expected a number",
        ),
        (
            "azure",
            b'[{"type": "Microsoft.Network/networkSecurityGroups", "name": "n",'
            b' "securityRules": [{"priority": 100, "sourceAddressPrefixes": "10/8"}]}]',
            "securityRules[0].sourceAddressPrefixes: expected a list",
        ),
        ("azure", b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_files_are_one_line_naming_the_file_and_field(provider, data, message):
    rel = f"cloud/{provider}/rules.json"
    with pytest.raises(errors.BundleError) as caught:
        cloud_files.parse(provider, rel, data, where=f"b/{rel}")
    text = str(caught.value)
    assert text.startswith(f"b/{rel}: ")
    assert message in text
    assert "\n" not in text


def _bundle(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "b"
    (root).mkdir()
    (root / "objects.yaml").write_text(yaml.safe_dump(POD))
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_directory_bundle_loads_cloud_documents(tmp_path):
    root = _bundle(tmp_path, {"cloud/aws/sg.json": json.dumps(SG).encode()})
    ev = bundle.load(root)
    assert [d.kind for d in ev.cloud] == ["SecurityGroups"]
    assert ev.cloud_of("aws", "SecurityGroups")[0].source == "cloud/aws/sg.json"
    assert ev.gaps == ()


def test_archive_bundle_loads_cloud_documents(tmp_path):
    out = tmp_path / "b.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for name, data in (
            ("b/objects.yaml", yaml.safe_dump(POD).encode()),
            ("b/cloud/aws/sg.json", json.dumps(SG).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert [d.kind for d in bundle.load(out).cloud] == ["SecurityGroups"]


@pytest.mark.parametrize(
    ("rel", "data"),
    [
        ("cloud/aws/sg.json", b'{"SecurityGroups": [{"GroupId": "sg-1"'),
        ("cloud/aws/vpcs.json", b'{"Vpcs": []}'),
        ("cloud/oracle/x.json", b"{}"),
        ("cloud/sg.json", json.dumps(SG).encode()),
    ],
)
def test_a_bad_cloud_file_is_a_gap_in_diagnose_and_an_error_when_strict(tmp_path, rel, data):
    root = _bundle(tmp_path, {rel: data, "cloud/aws/good.json": json.dumps(SG).encode()})
    ev = bundle.load(root)
    assert len(ev.gaps) == 1 and rel in str(ev.gaps[0]) and "cloud file not used" in str(ev.gaps[0])
    assert [d.source for d in ev.cloud] == ["cloud/aws/good.json"]
    assert ev.kind("Pod")  # the rest of the bundle is still there
    with pytest.raises(errors.BundleError, match=rel.replace(".", r"\.")):
        bundle.load(root, strict_cloud=True)


def test_symlinked_cloud_file_is_refused(tmp_path):
    root = _bundle(tmp_path, {})
    (root / "cloud" / "aws").mkdir(parents=True)
    (root / "cloud" / "aws" / "sg.json").symlink_to("/etc/hostname")
    with pytest.raises(errors.BundleError, match="symbolic link"):
        bundle.load(root)


def test_written_cloud_files_load_back_the_same(tmp_path):
    from paramedic.evidence import writer

    reservations = {
        "Reservations": [
            {
                "Instances": [
                    {
                        "InstanceId": "i-1",
                        "NetworkInterfaces": [
                            {"NetworkInterfaceId": "eni-1", "PrivateIpAddress": "10.0.0.1"}
                        ],
                    }
                ]
            }
        ]
    }
    root = _bundle(
        tmp_path,
        {
            "cloud/aws/sg.json": json.dumps(SG).encode(),
            "cloud/aws/vms.json": json.dumps(reservations).encode(),
            "cloud/aws/pl-0abc.json": b'{"Entries": [{"Cidr": "10.0.0.0/8"}]}',
            "cloud/gcp/fw.json": b'[{"kind": "compute#firewall", "name": "fw", "priority": 10}]',
        },
    )
    first = bundle.load(root)
    again = bundle.load(writer.write(first, tmp_path / "out"))
    assert again.cloud == first.cloud
    assert {d.key for d in again.cloud} == {"", "pl-0abc"}
