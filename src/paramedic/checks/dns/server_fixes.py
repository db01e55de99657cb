"""Fixes for cluster DNS itself: CoreDNS down (the loop-plugin crash gets its own fix, because a
restart does not help there) and an upstream resolver that fails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.dns.problem import Problem, client_cites, verify_lookup
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, resolve


def coredns_down(
    ev: evidence_model.Evidence,
    dns_pods: Sequence[Mapping[str, Any]],
    kube_dns: Mapping[str, Any] | None,
    coredns_logs: Sequence[clues.Clue],
    client: Sequence[clues.Clue],
) -> Problem:
    ready = [p for p in dns_pods if pods.is_ready(p)]
    cites = []
    crashing = False
    for pod in dns_pods:
        waiting = pods.waiting_reasons(pod)
        restarts = sum(objects.as_int(s.get("restartCount")) for s in pods.container_statuses(pod))
        state = ", ".join(f"{c} {r}" for c, r, _ in waiting) or pods.phase(pod)
        crashing = crashing or any(r == "CrashLoopBackOff" for _, r, _ in waiting)
        cites.append(
            model.Cite(
                text=f"{objects.name(pod)}: {state}, ready={pods.is_ready(pod)}, "
                f"restarts={restarts}",
                source=objects.ref(pod),
            )
        )
    if kube_dns is not None and not ready:
        cites.append(
            model.Cite(text="Service kube-dns has no ready endpoint", source=objects.ref(kube_dns))
        )
    loop = [c for c in coredns_logs if c.meaning == "dns-loop"]
    cites += [c.cite("CoreDNS: ") for c in loop[:1]]
    cites += client_cites(client)
    verify = (
        "kubectl -n kube-system get pods -l k8s-app=kube-dns"
        "  # expect all Running and READY 1/1, no new restarts\n"
        "kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns"
        "  # expect the CoreDNS pod addresses"
    )
    summary = f"cluster DNS is down: {len(ready)}/{len(dns_pods)} CoreDNS pods ready"
    if loop:
        return _loop(ev, summary, cites, verify)
    if crashing:
        return Problem(
            kind="coredns-crashloop",
            summary=summary + " (CrashLoopBackOff)",
            evidence=tuple(cites),
            fix_summary="read why CoreDNS exits and fix that; a restart alone restarts the same "
            "crash",
            steps=(
                model.FixStep(
                    description="The reason is in the log of the crashed run:",
                    language="shell",
                    content="kubectl -n kube-system logs -l k8s-app=kube-dns --previous --tail=50\n"
                    "kubectl -n kube-system get configmap coredns -o yaml",
                ),
            ),
            why="Every pod in the cluster resolves names through these pods; while none is ready, "
            "every "
            "lookup of the database name fails with a temporary resolver error.",
            verify=verify,
            priority=model.Priority.CLUSTER_SERVICE,
            confidence=model.Confidence.HIGH,
        )
    return Problem(
        kind="coredns-not-ready",
        summary=summary,
        evidence=tuple(cites),
        fix_summary="restart CoreDNS: the pods run but do not become ready, and nothing in the "
        "evidence says why",
        steps=(
            model.FixStep(
                description="Restart the CoreDNS Deployment (rolling, one pod at a time):",
                language="shell",
                content="kubectl -n kube-system rollout restart deployment/coredns\n"
                "kubectl -n kube-system rollout status deployment/coredns --timeout=120s",
                action={"op": "rollout-restart", "target": "Deployment kube-system/coredns"},
            ),
        ),
        why="Every pod resolves names through CoreDNS; pods that run but are not ready are out of "
        "the "
        "kube-dns Service, so lookups time out. A restart clears a hung process; if they stay "
        "unready, their log says why.",
        verify=verify,
        priority=model.Priority.CLUSTER_SERVICE,
        confidence=model.Confidence.HIGH,
    )


def _loop(
    ev: evidence_model.Evidence, summary: str, cites: list[model.Cite], verify: str
) -> Problem:
    corefile = str(
        objects.as_dict((ev.get("ConfigMap", "kube-system", "coredns") or {}).get("data")).get(
            "Corefile", ""
        )
    )
    forward = next(
        (ln.strip() for ln in corefile.splitlines() if ln.strip().startswith("forward ")), ""
    )
    if forward:
        cites.append(
            model.Cite(
                text=f"Corefile: {forward.rstrip('{ ')}", source="ConfigMap kube-system/coredns"
            )
        )
    nodes = sorted(objects.name(n) for n in ev.kind("Node")) or ["every node"]
    return Problem(
        kind="coredns-loop",
        summary=summary + ": the loop plugin found a forwarding loop and halted CoreDNS",
        evidence=tuple(cites),
        fix_summary="break the loop: give CoreDNS the real upstream resolvers instead of the "
        "node's "
        "local stub (127.0.0.53), then restart it",
        steps=(
            model.FixStep(
                description=f"On each node ({', '.join(nodes)}): point the kubelet at the real "
                "resolv.conf "
                "(systemd-resolved keeps it there), then restart the kubelet:",
                language="shell",
                content="sudo sed -i 's|^resolvConf:.*|resolvConf: "
                "/run/systemd/resolve/resolv.conf|' "
                "/var/lib/kubelet/config.yaml\nsudo systemctl restart kubelet",
            ),
            model.FixStep(
                description="Then restart CoreDNS so its pods get the new /etc/resolv.conf:",
                language="shell",
                content="kubectl -n kube-system rollout restart deployment/coredns",
                action={"op": "rollout-restart", "target": "Deployment kube-system/coredns"},
            ),
        ),
        alternatives=(
            "edit ConfigMap kube-system/coredns and replace `forward . /etc/resolv.conf` with "
            "`forward . ` followed by your upstream resolver IPs (e.g. the VPC resolver), then "
            "restart",
        ),
        why="`forward . /etc/resolv.conf` sends queries CoreDNS cannot answer to the nameserver in "
        "its "
        "own resolv.conf; on nodes with systemd-resolved that is 127.0.0.53, which inside the pod "
        "is "
        "CoreDNS itself. The loop plugin detects this and stops the process, so the pod "
        "crash-loops. "
        "Restarting alone repeats the loop; the upstream must change first.",
        verify=verify + "\nkubectl -n kube-system logs -l k8s-app=kube-dns --tail=50 | grep -c "
        "'plugin/loop'  # expect 0",
        priority=model.Priority.CLUSTER,
        confidence=model.Confidence.HIGH,
    )


def upstream_failing(scope: resolve.Scope, name: str, upstream: Sequence[clues.Clue]) -> Problem:
    return Problem(
        kind="upstream-failing",
        summary=f"CoreDNS cannot resolve {name}: its upstream fails (SERVFAIL)",
        evidence=tuple(c.cite("CoreDNS: ") for c in upstream[:2]),
        fix_summary="fix or replace the upstream resolver that CoreDNS forwards to",
        steps=(
            model.FixStep(
                description="See where CoreDNS forwards and whether that server answers:",
                language="shell",
                content="kubectl -n kube-system get configmap coredns "
                "-o jsonpath='{.data.Corefile}' | grep forward\n"
                "kubectl -n kube-system logs -l k8s-app=kube-dns --tail=200 "
                "| grep 'plugin/errors'",
            ),
        ),
        why="Names outside the cluster are answered by the server in CoreDNS's `forward` line; "
        "rcode 2 (SERVFAIL) with an i/o timeout means that server did not answer CoreDNS.",
        verify=verify_lookup(scope, name),
        priority=model.Priority.PATH,
        confidence=model.Confidence.MEDIUM,
    )
