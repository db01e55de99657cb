"""`--probe-pod`: tcp and dns probes from inside the cluster, as the source pod would see them.

A NetworkPolicy only applies inside the cluster network, so a probe from the laptop proves
little. This creates one short-lived pod in the source namespace wearing the source's labels
(so the same policies select it), runs `nslookup` and `nc -z` in it, reads the results from its
log and deletes it, always (finally), even when the deadline passes. The pod never becomes
Ready (a readiness probe that always fails), so no Service ever sends it traffic; controller
hash labels are left off so no ReplicaSet adopts it; it runs as nobody with no token and no
capabilities, and the kubelet kills it after `activeDeadlineSeconds` should paramedic die.

Several pods can run at once (`Spec`, built by node_probe.py): the labelled pod pinned to a
client's node, a hostNetwork pod on that node (the node's own network, which no NetworkPolicy
selects), and a labelled pod on the database's node. All are created, then awaited, then read;
every pod that was created is deleted in the `finally`, whatever happened in between.
"""

from __future__ import annotations

import dataclasses
import math
import re
import secrets
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic import timeouts
from paramedic.evidence import probes_file
from paramedic.gather import fetch, plan, probe_pod_log, table
from paramedic.kube import names, objects, pods, services
from paramedic.probes import common

DEFAULT_IMAGE = "busybox:1.36"
CONTROLLER_LABELS = (
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
)
_SAFE = re.compile(r"^[A-Za-z0-9.:\-\[\]]{1,253}$")
_POLL = 0.5


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    kind: str  # "tcp" | "dns"
    host: str
    port: int | None = None

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}" if self.kind == "tcp" else self.host


def checks_for(
    target: plan.Target,
    service: Mapping[str, Any] | None,
    target_pods: Sequence[Mapping[str, Any]],
    port: int | str | None,
) -> list[Check]:
    """dns for the name a client uses; tcp to the ClusterIP and up to two backing pods directly
    (pod vs ClusterIP separates a policy problem from a Service problem); or the outside host."""
    wanted = target.port if target.port is not None else port
    if service is None:
        if target.is_service or wanted is None or not str(wanted).isdigit():
            return []
        found = [] if names.is_ip(target.host) else [Check(kind="dns", host=target.host)]
        return [*found, Check(kind="tcp", host=target.host, port=int(str(wanted)))]
    name, namespace = objects.name(service), objects.namespace(service)
    checks = [Check(kind="dns", host=f"{name}.{namespace}.svc.{names.CLUSTER_DOMAIN}")]
    chosen = services.find_port(service, wanted)
    if chosen is None:
        return checks
    cluster_ip = objects.spec(service).get("clusterIP")
    if cluster_ip and cluster_ip != "None":
        checks.append(
            Check(kind="tcp", host=str(cluster_ip), port=objects.as_int(chosen.get("port")))
        )
    for pod in list(target_pods)[:2]:
        ip = pods.ip(pod)
        pod_port = services.container_port(pod, services.target_port(chosen))
        if ip and pod_port:
            checks.append(Check(kind="tcp", host=ip, port=pod_port))
    return checks


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """One probe pod: from where (`vantage` 'pod' or 'node', pinned to `node` when set), wearing
    which labels, probing what."""

    vantage: str
    labels: Mapping[str, str]
    checks: tuple[Check, ...]
    node: str = ""

    @property
    def host_network(self) -> bool:
        return self.vantage == "node"

    def not_created(self, namespace: str, problem: str) -> str:
        what = "node probe pod (hostNetwork)" if self.host_network else "probe pod"
        where = f" on node {self.node}" if self.node else ""
        return f"{what} not created in {namespace}{where}: {problem}"


def manifest(
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    image: str,
    checks: Sequence[Check],
    limits: timeouts.Timeouts,
    node: str = "",
    host_network: bool = False,
) -> dict[str, Any]:
    """The probe pod: source labels minus controller hashes, never Ready, least privilege;
    pinned to `node` (tolerating its taints) and on the node's network when asked."""
    pod = _manifest(
        name=name, namespace=namespace, labels=labels, image=image, checks=checks, limits=limits
    )
    spec = pod["spec"]
    if node:
        spec["nodeName"] = node
        spec["tolerations"] = [{"operator": "Exists"}]
    if host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    return pod


def _manifest(
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    image: str,
    checks: Sequence[Check],
    limits: timeouts.Timeouts,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {k: v for k, v in labels.items() if k not in CONTROLLER_LABELS},
            "annotations": {
                "paramedic.dev/purpose": "tcp/dns probe of `paramedic --probe-pod`; safe to delete"
            },
        },
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "activeDeadlineSeconds": math.ceil(limits.total) + 60,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "command": ["sh", "-c", script(checks, limits)],
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "16Mi"},
                        "limits": {"cpu": "100m", "memory": "32Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "readinessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 3600},
                }
            ],
        },
    }


def script(checks: Sequence[Check], limits: timeouts.Timeouts) -> str:
    """A busybox sh script; per check it prints a block that probe_pod_log reads.

    `nc -z` exists only in busybox builds with netcat-1.10 compatibility (the busybox image's
    defconfig); the small nc (e.g. Debian's) gets `-e true` instead - last, since it takes the
    rest of the line as the program - which exits as soon as the connection is open."""
    lines = [
        'now() { read u _ < /proc/uptime; echo "${u%.*}${u#*.}0"; }',
        'if nc -z 2>&1 | grep -q "invalid option"; then Z=""; E="-e true"; else Z="-z"; E=""; fi',
    ]
    for c in checks:
        if not _SAFE.match(c.host):
            continue
        if c.kind == "dns":
            command = f"timeout {math.ceil(limits.dns)} nslookup {shlex.quote(c.host)}"
        else:
            wait = math.ceil(limits.tcp)
            target = f"{shlex.quote(c.host)} {int(c.port or 0)}"
            command = f"timeout {wait + 1} nc $Z -w {wait} {target} $E"
        lines += [
            f"t0=$(now); out=$({command} 2>&1); rc=$?; t1=$(now)",
            f'echo "{probe_pod_log.MARK} {c.kind} {c.target} rc=$rc ms=$((t1-t0))"',
            f'echo "$out"; echo "{probe_pod_log.END}"',
        ]
    return "\n".join(lines) + "\n"


def run(
    fetcher: fetch.Fetcher,
    *,
    namespace: str,
    specs: Sequence[Spec],
    image: str,
    limits: timeouts.Timeouts,
) -> tuple[probes_file.ProbeResult, ...]:
    """Create every pod, wait for each to finish, read its log, delete them all (always)."""
    if fetcher.left() < 2:
        fetcher.gaps.append("probe pod not started: less than 2 s of --timeout left")
        return ()
    started: list[tuple[str, Spec]] = []
    try:
        for spec in specs:
            name = f"paramedic-{'node' if spec.host_network else 'probe'}-{secrets.token_hex(3)}"
            body = manifest(
                name=name,
                namespace=namespace,
                labels=spec.labels,
                image=image,
                checks=spec.checks,
                limits=limits,
                node=spec.node,
                host_network=spec.host_network,
            )
            created = fetcher.write("POST", table.path("Pod", namespace), body=body)
            if not created.ok:
                fetcher.gaps.append(spec.not_created(namespace, created.problem))
                continue
            started.append((name, spec))
        results: list[probes_file.ProbeResult] = []
        for name, spec in started:
            results += _results(fetcher, namespace, name, spec, image)
        return tuple(results)
    finally:
        for name, _ in started:
            deleted = fetcher.write("DELETE", table.path("Pod", namespace, name))
            if not deleted.ok and not deleted.not_found:
                fetcher.gaps.append(
                    f"probe pod {namespace}/{name} NOT deleted ({deleted.problem}):"
                    f" kubectl delete pod -n {namespace} {name}"
                )


def _results(
    fetcher: fetch.Fetcher, namespace: str, name: str, spec: Spec, image: str
) -> list[probes_file.ProbeResult]:
    pod_path = table.path("Pod", namespace, name)
    if not _wait(fetcher, pod_path, name, namespace, image):
        return []
    log = fetcher.call(
        fetch.Request(
            what=f"read logs of probe pod {namespace}/{name}",
            path=f"{pod_path}/log",
            query=(("container", "probe"),),
            raw=True,
        )
    )
    if log is None:
        return []
    parsed = probe_pod_log.parse(log.text, source=f"pod {namespace}/{name}", at=common.now_iso())
    return [dataclasses.replace(r, vantage=spec.vantage, node=spec.node) for r in parsed]


def _wait(fetcher: fetch.Fetcher, pod_path: str, name: str, namespace: str, image: str) -> bool:
    """Poll until the pod has finished; False (with a gap) when it cannot run or time runs out."""
    while fetcher.left() > _POLL:
        reply = fetcher.call(fetch.Request(what=f"get probe pod {namespace}/{name}", path=pod_path))
        if reply is None:
            return False
        pod = objects.as_dict(reply.data)
        if pods.phase(pod) in ("Succeeded", "Failed"):
            return True
        for _, reason, _ in pods.waiting_reasons(pod):
            if reason in (
                "ErrImagePull",
                "ImagePullBackOff",
                "InvalidImageName",
                "CreateContainerConfigError",
            ):
                fetcher.gaps.append(
                    f"probe pod {namespace}/{name} cannot start: {reason} for image {image}"
                    " (air-gapped? pass --probe-image)"
                )
                return False
        time.sleep(_POLL)
    fetcher.gaps.append(
        f"probe pod {namespace}/{name} did not finish within --timeout {fetcher.total:g} s"
    )
    return False
