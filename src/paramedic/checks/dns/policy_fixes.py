"""Fixes for DNS traffic that never reaches CoreDNS: port 53 blocked by egress policy, and a
dnsPolicy that bypasses cluster DNS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.dns.problem import Problem, client_cites, verify_lookup
from paramedic.evidence import yamltext
from paramedic.kube import objects, resolve


def _dump(obj: Mapping[str, Any]) -> str:
    return yamltext.manifests(dict(obj), default_flow_style=None, width=78)


def _dns_ports(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    egress = objects.as_list(objects.spec(policy).get("egress"))
    return [p for rule in egress for p in objects.as_list(rule.get("ports"))]


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
            *client_cites(client),
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
