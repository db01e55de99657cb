"""Real dnsmasq servers for the DNS probe tests, each on a free loopback port.

Verified behaviour of Debian's dnsmasq 2.90 (see docs/PROBES.md):
- `--host-record` names answer NOERROR; other names under a `--local=/zone/` get NXDOMAIN.
- with `--no-resolv` and no `--server`, names outside local zones get REFUSED.
- a validating forwarder (`--dnssec` with the root trust anchor) in front of an upstream that
  cannot prove its answers returns SERVFAIL ("validation ... is ABANDONED").
- a forwarder whose only upstream is a closed port never answers the client: a black hole.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time

import dns.message
import dns.query
import dns.rcode

READY = "ready.paramedic.test"
ROOT_ANCHOR = ".,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"


def missing() -> str:
    return "" if shutil.which("dnsmasq") else "dnsmasq is not installed (apt-get install dnsmasq)"


def free_udp_tcp_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on `host` (dnsmasq binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port for dnsmasq")


class Dnsmasq:
    """One dnsmasq in the foreground; `port` is where it listens on 127.0.0.1."""

    def __init__(self, *args: str, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_udp_tcp_port(host)
        argv = [
            "dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            f"--listen-address={host}",
            f"--port={self.port}",
            "--user=root",
            "--pid-file=",
            "--log-facility=/dev/null",
            f"--host-record={READY},127.0.0.9",
            *args,
        ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, seconds: float = 10.0) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dnsmasq exited: {err.strip()}")
            with contextlib.suppress(Exception):
                reply = dns.query.udp(
                    dns.message.make_query(READY, "A"), self.host, port=self.port, timeout=0.2
                )
                if reply.rcode() == dns.rcode.NOERROR:
                    return
            time.sleep(0.05)
        raise RuntimeError("dnsmasq did not come up")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stderr:
            self.process.stderr.close()


def zone() -> Dnsmasq:
    """Authoritative-ish answers for example.test and cluster.local; REFUSED for the rest."""
    return Dnsmasq(
        "--local=/example.test/",
        "--local=/cluster.local/",
        "--local-ttl=30",
        "--host-record=db.example.test,10.1.2.3",
        "--host-record=dual.example.test,10.1.2.4,fd00::4",
        "--cname=alias.example.test,db.example.test",
        "--txt-record=txtonly.example.test,only text here",
        "--host-record=profile-db.data.svc.cluster.local,10.96.0.40",
    )


def validating(upstream: Dnsmasq) -> Dnsmasq:
    """A DNSSEC-validating forwarder to `upstream`, which cannot prove anything: SERVFAIL."""
    return Dnsmasq(
        "--dnssec",
        f"--trust-anchor={ROOT_ANCHOR}",
        "--dnssec-check-unsigned",
        f"--server={upstream.host}#{upstream.port}",
    )


def silent() -> Dnsmasq:
    """A forwarder whose only upstream is a closed port: it never answers forwarded names."""
    dead = free_udp_tcp_port()
    return Dnsmasq(f"--server=127.0.0.1#{dead}")
