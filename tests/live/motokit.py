"""moto's server mode on loopback for the `--cloud aws` tests: a real HTTP server speaking the EC2,
RDS and IAM APIs, seeded with boto3 the way a cluster's VPC looks; plus two endpoints that AWS
itself can be: one that refuses every call with EC2's genuine 403 error document, and one that
accepts connections and never answers."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

REGION = "eu-west-1"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """`python -m moto.server` on a free loopback port (IAM not enforced: `iam_enforced`)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def iam_enforced(endpoint: str, *, after: int) -> Iterator[None]:
    """IAM policies enforced by the running server after `after` more unauthenticated calls
    (moto's /moto-api/reset-auth), and off again on leaving: one server serves the module's
    tests with and without IAM (each moto server costs seconds of CPU to start and load)."""

    def reset_auth(count: str) -> None:
        request = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "text/plain"},  # a form body would be parsed away
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    reset_auth(str(after))
    try:
        yield
    finally:
        reset_auth("inf")


def client(endpoint: str, service: str, **keys: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **(keys or KEYS))


def seed_vpc(endpoint: str) -> dict[str, Any]:
    """Two nodes carrying sg-nodes, an RDS instance in sg-db that admits only MySQL's port."""
    ec2 = client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    nodes_subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    db_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/24", AvailabilityZone="eu-west-1a")
    db_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.4.0/24", AvailabilityZone="eu-west-1b")
    sg_nodes = ec2.create_security_group(GroupName="nodes", Description="k8s nodes", VpcId=vpc)
    sg_db = ec2.create_security_group(GroupName="db", Description="database", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=sg_db["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "UserIdGroupPairs": [{"GroupId": sg_nodes["GroupId"]}],
            }
        ],
    )
    reservation = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=2,
        MaxCount=2,
        SubnetId=nodes_subnet,
        SecurityGroupIds=[sg_nodes["GroupId"]],
    )
    rds = client(endpoint, "rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName="db",
        DBSubnetGroupDescription="db",
        SubnetIds=[db_a["Subnet"]["SubnetId"], db_b["Subnet"]["SubnetId"]],
    )
    db = rds.create_db_instance(
        DBInstanceIdentifier="profile-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="not-a-real-secret-1",
        VpcSecurityGroupIds=[sg_db["GroupId"]],
        DBSubnetGroupName="db",
    )["DBInstance"]
    return {
        "nodes": [i["PrivateIpAddress"] for i in reservation["Instances"]],
        "sg_nodes": sg_nodes["GroupId"],
        "sg_db": sg_db["GroupId"],
        "db_address": db["Endpoint"]["Address"],
    }


_UNAUTHORIZED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
    b"<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this "
    b"operation.</Message></Error></Errors><RequestID>3f2a5e3c-0000-4000-8000-000000000000"
    b"</RequestID></Response>"
)


class _Refusing(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(403)
        self.send_header("Content-Type", "text/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(_UNAUTHORIZED)))
        self.end_headers()
        self.wfile.write(_UNAUTHORIZED)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def refusing_endpoint() -> Iterator[str]:
    """Answers every call as EC2 does when IAM denies it (403 UnauthorizedOperation)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hanging_endpoint() -> Iterator[str]:
    """Accepts TCP connections and never answers (a black-holed proxy, an overloaded endpoint)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        sock.close()
