"""A network namespace with nftables in front of port 5432, for refused/unreachable/timeout.

The test process stays in the root namespace and reaches the namespace over a veth pair
(10.251.N.1 here, 10.251.N.2 there); what listens on 10.251.N.2:5432 is a real PostgreSQL.
`block(rule)` replaces the namespace's input rules for TCP port 5432 with one nftables rule:
"drop" (the client times out), "reject with tcp reset" (refused), "reject with icmpx type
host-unreachable" (EHOSTUNREACH), or None (open).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess

NFT_TABLE = "table inet paramedic {\n chain input {\n  type filter hook input priority 0;\n }\n}\n"


def missing() -> str:
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install iproute2 nftables)"
    if os.geteuid() != 0:
        return "needs root for `ip netns add` and nftables"
    return ""


def _free_subnet() -> int:
    """A 10.251.X.0/24 that no interface uses yet (parallel test workers each make a namespace)."""
    used = subprocess.run(
        ["ip", "-o", "-4", "addr"], capture_output=True, text=True, timeout=10
    ).stdout
    free = [n for n in range(256) if f" 10.251.{n}." not in used]
    return random.choice(free or [random.randrange(256)])


def _run(*argv: str, stdin: str | None = None) -> None:
    subprocess.run(argv, check=True, capture_output=True, input=stdin, text=True, timeout=30)


class Netns:
    """A namespace `name` reachable at `address` from the root namespace."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 10000:04d}{random.randrange(1000):03d}"
        self.name = f"pm-{tag}"
        self.host_if, self.ns_if = f"pmh{tag}", f"pmn{tag}"
        subnet = _free_subnet()
        self.gateway, self.address = f"10.251.{subnet}.1", f"10.251.{subnet}.2"
        try:
            _run("ip", "netns", "add", self.name)
            _run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _run("ip", "link", "set", self.ns_if, "netns", self.name)
            _run("ip", "addr", "add", f"{self.gateway}/24", "dev", self.host_if)
            _run("ip", "link", "set", self.host_if, "up")
            _run("ip", "-n", self.name, "addr", "add", f"{self.address}/24", "dev", self.ns_if)
            _run("ip", "-n", self.name, "link", "set", self.ns_if, "up")
            _run("ip", "-n", self.name, "link", "set", "lo", "up")
            _run("ip", "netns", "exec", self.name, "nft", "-f", "-", stdin=NFT_TABLE)
        except BaseException:
            self.remove()
            raise

    def block(self, rule: str | None, port: int = 5432) -> None:
        """Make `rule` the only nftables rule for TCP `port` (None: let everything through)."""
        _run(
            "ip", "netns", "exec", self.name, "nft", "flush", "chain", "inet", "paramedic", "input"
        )
        if rule:
            _run(
                "ip",
                "netns",
                "exec",
                self.name,
                "nft",
                "add",
                "rule",
                "inet",
                "paramedic",
                "input",
                "tcp",
                "dport",
                str(port),
                *rule.split(),
            )

    def remove(self) -> None:
        """Kill what runs inside, delete the namespace and the veth pair (idempotent)."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            pids = subprocess.run(
                ["ip", "netns", "pids", self.name], capture_output=True, text=True, timeout=10
            ).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        for argv in (("ip", "netns", "del", self.name), ("ip", "link", "del", self.host_if)):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(argv, capture_output=True, timeout=10)
