"""The DNS problems the `dns` check recognises, each with its evidence and its exact fix.

One builder per problem: CoreDNS down (the loop-plugin crash gets its own fix, because a
restart does not help there), port 53 blocked by egress policy, a dnsPolicy that bypasses
cluster DNS, a configured host name that lands on a missing Service, a failed dns probe, and
client resolution errors whose mechanism the evidence does not show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from paramedic.checks import clues, dns_names, model
from paramedic.evidence import model as evidence_model
from paramedic.evidence import probes_file
from paramedic.kube import objects, pods, resolve


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    kind: str
    summary: str
    evidence: tuple[model.Cite, ...]
    fix_summary: str
    steps: tuple[model.FixStep, ...]
    why: str
    verify: str
    priority: model.Priority
    confidence: model.Confidence = model.Confidence.HIGH
    alternatives: tuple[str, ...] = ()
    rollback: str = ""

    def with_evidence(self, cite: model.Cite) -> Problem:
        return dataclasses.replace(self, evidence=(*self.evidence, cite))


def verify_lookup(scope: resolve.Scope, host: str) -> str:
    """`exec_lookup`, with what it prints once the name resolves."""
    return f"{exec_lookup(scope, host)}  # expect a line with the address of {host}"


def exec_lookup(scope: resolve.Scope, host: str) -> str:
    """The exact command that resolves `host` from inside the client."""
    ref = clues.workload_ref(scope.source_workload)
    if ref is not None:
        kind, ns, name = ref
        return f"kubectl -n {ns} exec {kind}/{name} -- getent hosts {host}"
    if scope.source_pods:
        pod = scope.source_pods[0]
        return (
            f"kubectl -n {objects.namespace(pod)} exec {objects.name(pod)} -- getent hosts {host}"
        )
    image = "registry.k8s.io/e2e-test-images/agnhost:2.39"
    return f"kubectl run dnsutils --rm -it --image={image} -- nslookup {host}"


def _client_cites(client: Sequence[clues.Clue]) -> list[model.Cite]:
    return [c.cite("client: ") for c in client]


def _dump(obj: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(obj), sort_keys=False, default_flow_style=None, width=78)


def _dns_ports(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    egress = objects.as_list(objects.spec(policy).get("egress"))
    return [p for rule in egress for p in objects.as_list(rule.get("ports"))]


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
    cites += _client_cites(client)
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


def egress_blocked(
    scope: resolve.Scope, netpol: model.Finding, client: Sequence[clues.Clue]
) -> Problem:
    """The fix is the network-policy check's DNS patch (netpol.dns_fix): kube-dns's translated
    target ports, the client's identifying labels, a computed blast radius."""
    found = netpol.details.get("dns_patch") or {}
    policy = (found.get("objects") or [{}])[0]
    name = objects.name(policy)
    opened = found.get("blast_radius") or []
    radius = model.Cite(
        text=f"the policy opens exactly {len(opened)} flow(s)"
        + (
            f", e.g. {opened[0]['from']} -> {opened[0]['to']} {opened[0]['protocol']}/"
            f"{opened[0]['port']}"
            if opened
            else ""
        ),
        source="paramedic netpol matrix (before/after)",
    )
    ports = ", ".join(f"{p['protocol']} {p['port']}" for p in _dns_ports(policy))
    return Problem(
        kind="dns-egress-blocked",
        summary=f"egress policy blocks DNS (port 53) from {scope.source}",
        evidence=(
            model.Cite(text=f"network-policy: {netpol.summary}", source="check network-policy"),
            radius,
            *_client_cites(client),
        ),
        fix_summary=f"allow {ports} from {scope.source} to kube-dns in kube-system",
        steps=(
            model.FixStep(
                description="Create this NetworkPolicy (paste as is)",
                language="shell",
                content="kubectl apply -f - <<'EOF'\n" + _dump(policy) + "EOF\n",
                action={"op": "create", "object": policy},
            ),
        ),
        why="Once an Egress policy selects a pod, everything it does not allow is denied, DNS "
        "included. "
        "Allow rules add up, so this policy opens port 53 to CoreDNS without widening anything "
        "else. "
        "TCP is needed too: large answers and retries fall back to TCP.",
        verify=verify_lookup(scope, scope.target_host),
        rollback=f"kubectl -n {objects.namespace(policy)} delete networkpolicy {name}",
        priority=model.Priority.PATH,
    )


def dns_policy(
    scope: resolve.Scope,
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    kube_dns_ip: str | None,
) -> Problem | None:
    """dnsPolicy Default, hostNetwork under ClusterFirst, or None without the kube-dns IP."""
    policy = str(spec.get("dnsPolicy") or "ClusterFirst")
    host_net = bool(spec.get("hostNetwork"))
    servers = [
        str(s) for s in objects.as_list(objects.as_dict(spec.get("dnsConfig")).get("nameservers"))
    ]
    if policy == "Default" or (host_net and policy == "ClusterFirst"):
        wanted = "ClusterFirstWithHostNet" if host_net else "ClusterFirst"
    elif policy == "None" and kube_dns_ip and kube_dns_ip not in servers:
        wanted = "ClusterFirstWithHostNet" if host_net else "ClusterFirst"
        policy = f"None, nameservers {', '.join(servers) or 'none'}"
    else:
        return None
    ref = clues.workload_ref(template)
    patch = {"spec": {"template": {"spec": {"dnsPolicy": wanted}}}}
    content = (
        (
            f"kubectl -n {ref[1]} patch {ref[0]} {ref[2]} --type merge -p "
            f'\'{{"spec":{{"template":{{"spec":{{"dnsPolicy":"{wanted}"}}}}}}}}\''
        )
        if ref
        else ""
    )
    return Problem(
        kind="dns-policy",
        summary=f"{scope.source} does not use cluster DNS (dnsPolicy {policy}"
        f"{', hostNetwork' if host_net else ''}): {scope.target_host} cannot resolve",
        evidence=(
            model.Cite(
                text=f"dnsPolicy: {policy}, hostNetwork: {host_net}", source=objects.ref(template)
            ),
        ),
        fix_summary=f"set dnsPolicy: {wanted}",
        steps=(
            model.FixStep(
                description="Patch the pod template:",
                language="shell",
                content=content,
                action={"op": "patch", "target": objects.ref(template), "patch": patch},
            ),
        )
        if ref
        else (),
        why="With dnsPolicy Default (and with hostNetwork under ClusterFirst) the pod uses the "
        "node's resolv.conf, and with None only the listed nameservers: neither knows the "
        "*.svc.cluster.local names that CoreDNS answers.",
        verify=verify_lookup(scope, scope.target_host),
        priority=model.Priority.PATH,
    )


def ndots_note(host: str, ndots: int) -> model.Cite | None:
    """The search-path cost of a name with fewer dots than ndots (None when there is none)."""
    dots = host.rstrip(".").count(".")
    if host.endswith(".") or dots >= ndots:
        return None
    return model.Cite(
        text=f"ndots {ndots}: {host} has {dots} dot(s), so each lookup first tries the search "
        f"suffixes (at least 3, for A and AAAA); {host.rstrip('.')}. with a trailing dot skips them"
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


def wrong_name(
    ev: evidence_model.Evidence,
    scope: resolve.Scope,
    container: Mapping[str, Any],
    configured: dns_names.ConfiguredHost,
    name: dns_names.ClusterName,
    client: Sequence[clues.Clue],
) -> Problem:
    right = _right_service(ev, scope, name.service)
    elsewhere = sorted(
        objects.namespace(s) for s in ev.kind("Service") if objects.name(s) == name.service
    )
    template = scope.source_template()
    cites = [
        model.Cite(
            text=f"{configured.variable}={configured.host} → {name.fqdn}"
            + (" (short names resolve in the client's namespace)" if name.searched else ""),
            source=objects.ref(template) if template else "",
        ),
        model.Cite(
            text=f"no Service {name.service!r} in namespace {name.namespace}"
            + (
                f"; Services named {name.service!r} exist in: {', '.join(elsewhere)}"
                if elsewhere
                else ""
            ),
            source=f"Namespace {name.namespace}",
        ),
        *_client_cites(client),
    ]
    steps: tuple[model.FixStep, ...] = ()
    ref = clues.workload_ref(template)
    summary = (
        f"{configured.variable}={configured.host} names a Service that does not exist ({name.fqdn})"
    )
    if right and ref and template is not None and not configured.from_url:
        kind, ns, wl = ref
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": container.get("name"),
                                "env": [{"name": configured.variable, "value": right}],
                            }
                        ]
                    }
                }
            }
        }
        steps = (
            model.FixStep(
                description="Point the client at the right Service (this rolls the pods):",
                language="shell",
                content=f"kubectl set env {kind}/{wl} -n {ns} -c {container.get('name')} "
                f"{configured.variable}={right}",
                action={"op": "patch", "target": objects.ref(template), "patch": patch},
            ),
        )
    elif right:
        steps = (
            model.FixStep(
                description="Change the host part of the URL:",
                language="text",
                content=f"in {configured.variable}, replace host {configured.host} by {right}",
            ),
        )
    return Problem(
        kind="wrong-name",
        summary=summary,
        evidence=tuple(cites),
        fix_summary=f"use {right}"
        if right
        else f"create Service {name.namespace}/{name.service} or fix {configured.variable}",
        steps=steps,
        why="Cluster DNS only answers for Services that exist; a name without a namespace is "
        "completed "
        f"with the client's own namespace ({scope.namespace}) first. The fully qualified name "
        "cannot be "
        "completed wrongly and costs no extra search-path queries.",
        verify=verify_lookup(scope, right or name.fqdn),
        rollback=f"kubectl -n {scope.namespace} rollout undo {ref[0]}/{ref[2]}" if ref else "",
        priority=model.Priority.NAME,
    )


def _right_service(ev: evidence_model.Evidence, scope: resolve.Scope, wanted: str) -> str | None:
    if scope.target_service is not None:
        return str(scope.target_host)
    same = [s for s in ev.kind("Service") if objects.name(s) == wanted]
    if len(same) == 1:
        return f"{wanted}.{objects.namespace(same[0])}.svc.{dns_names.CLUSTER_DOMAIN}"
    return None


def probe_failed(scope: resolve.Scope, probe: probes_file.ProbeResult) -> Problem:
    nx = probe.outcome == "nxdomain"
    server = probe.data.get("server") or "the default resolver"
    return Problem(
        kind="probe-" + probe.outcome,
        summary=f"{probe.target} does not resolve ({probe.outcome} from {server})",
        evidence=(
            model.Cite(
                text=f"probe dns {probe.target}: {probe.outcome} after {probe.elapsed_ms:.0f} ms"
                + (f" ({probe.detail})" if probe.detail else ""),
                source="probe dns",
            ),
        ),
        fix_summary="the name does not exist: use the Service's full name"
        if nx
        else "cluster DNS does not answer: check CoreDNS and port 53 egress",
        steps=(
            model.FixStep(
                description="See what the resolver and CoreDNS say:",
                language="shell",
                content=f"{exec_lookup(scope, probe.target)}\n"
                "kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50",
            ),
        ),
        why="NXDOMAIN means the name is wrong or its Service is missing; SERVFAIL or a timeout "
        "means "
        "CoreDNS or its upstream is failing, or port 53 is blocked.",
        verify=verify_lookup(scope, probe.target),
        priority=model.Priority.NAME,
        confidence=model.Confidence.MEDIUM,
    )


def client_only(scope: resolve.Scope, client: Sequence[clues.Clue]) -> Problem:
    temporary = any(c.meaning == "dns-temporary" for c in client)
    return Problem(
        kind="client-resolution-errors",
        summary=f"{scope.source} cannot resolve its database host"
        + (" (temporary failure: DNS unreachable or failing)" if temporary else ""),
        evidence=tuple(_client_cites(client)),
        fix_summary="find which lookup fails from inside the client, then fix CoreDNS or the name",
        steps=(
            model.FixStep(
                description="Resolve the name from the client and read CoreDNS:",
                language="shell",
                content=f"{exec_lookup(scope, scope.target_host)}\n"
                "kubectl -n kube-system get pods,endpointslices -l k8s-app=kube-dns\n"
                "kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50",
            ),
        ),
        why="The client's own errors show name resolution failing; the objects in the evidence do "
        "not "
        "show why, so the lookup from inside the pod decides between a wrong name and broken DNS.",
        verify=verify_lookup(scope, scope.target_host),
        priority=model.Priority.EXTERNAL,
        confidence=model.Confidence.MEDIUM,
    )
