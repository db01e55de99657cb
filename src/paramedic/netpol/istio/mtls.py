"""PeerAuthentication as the first tier at the sidecar: which connections the proxy accepts.

For a destination pod with a sidecar, the mode in force on the connection's port is, in order:
the `portLevelMtls` entry for that port of the workload policy, the workload policy's mode, the
namespace policy's (no selector), the mesh-wide policy's (no selector, in the root namespace),
else PERMISSIVE; UNSET anywhere means "the next one". Only the oldest workload policy selecting
a pod counts, and only the oldest namespace-wide one (creationTimestamp, then name), as in Istio.
A workload policy in the root namespace is just a workload policy of that namespace.

STRICT accepts only mutual TLS: a client with a sidecar (its proxy originates mTLS to an
injected server) passes on to authorization, anything else is refused. PERMISSIVE and DISABLE
accept both. Compiled as a tier that ends in Pass: per policy, port-level rules first, then the
mode's rules — STRICT: Pass from sidecar clients, then Deny; PERMISSIVE/DISABLE: Pass; UNSET:
no rule, so the walk falls through to the next, wider policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from paramedic.netpol import form, model, policies
from paramedic.netpol.istio import match, mesh, resources

KIND = "PeerAuthentication"
TIER = "istio-mtls"
CLIENT = form.Term(
    key="istio|mtls-client",
    text="clients with a sidecar (mutual TLS)",
    pods=match.Identity(sidecar=True),
)


def tier(
    found: Sequence[resources.PeerAuthentication], config: mesh.Mesh, layer: str, point: str
) -> form.Tier | None:
    ordered = sorted(found, key=lambda p: (p.created or "~", p.name))  # unsaved: newest
    workload: dict[str, list[resources.PeerAuthentication]] = {}
    wide: dict[str, resources.PeerAuthentication] = {}
    for p in ordered:
        if p.selector is not None:
            workload.setdefault(p.namespace, []).append(p)
        else:
            wide.setdefault(p.namespace, p)
    compiled: list[form.Policy] = []
    for ns in sorted(workload):
        earlier: list[dict[str, str]] = []
        for p in workload[ns]:
            selector = dict(p.selector or {})
            who = match.Identity(selector=selector, sidecar=True, excluding=tuple(earlier))
            compiled.append(_policy(p, ns, who))
            earlier.append(selector)
    mesh_wide = wide.pop(config.root_namespace, None)
    for ns in sorted(wide):
        compiled.append(_policy(wide[ns], ns, match.Identity(sidecar=True)))
    if mesh_wide is not None:
        compiled.append(_policy(mesh_wide, None, match.Identity(sidecar=True)))
    if not compiled:
        return None
    return form.Tier.of(TIER, layer, form.Action.PASS, compiled, point=point)


def _policy(p: resources.PeerAuthentication, ns: str | None, who: match.Identity) -> form.Policy:
    where = f" in namespace {ns}" if ns else " (mesh-wide)"
    subject = form.Term(
        key=f"istio|{ns or '*'}|{who.key}",
        text=f"workloads {who.describe()}{where}",
        namespace=ns,
        pods=who,
    )
    rules = [
        r
        for port, mode in sorted(p.port_modes.items())
        for r in _mode_rules(
            mode, (policies.PortSpec(protocol="TCP", port=port),), f"portLevelMtls[{port}]"
        )
    ]
    rules += _mode_rules(p.mode, (policies.PortSpec(protocol="TCP", port=None),), "mtls")
    indexed = tuple(_numbered(rules))
    return form.Policy(
        kind=KIND,
        namespace=p.namespace if ns else "",
        name=p.name if ns else f"{p.namespace}/{p.name}",
        tier=TIER,
        order=None,
        subject=subject,
        directions=frozenset({model.Direction.INGRESS}),
        ingress=indexed,
        egress=(),
        source=p,
    )


Draft = tuple[form.Action, tuple[form.Term, ...] | None, tuple[policies.PortSpec, ...], str]


def _mode_rules(mode: str, ports: tuple[policies.PortSpec, ...], where: str) -> list[Draft]:
    if mode == "STRICT":
        return [
            (form.Action.PASS, (CLIENT,), ports, f"{where} STRICT: mutual TLS accepted"),
            (
                form.Action.DENY,
                None,
                ports,
                f"{where} STRICT: plaintext refused (the client has no sidecar)",
            ),
        ]
    if mode in ("PERMISSIVE", "DISABLE"):
        return [(form.Action.PASS, None, ports, f"{where} {mode}: plaintext accepted")]
    return []


def _numbered(
    rules: list[Draft],
) -> Iterator[form.Rule]:
    for i, (action, peers, ports, label) in enumerate(rules):
        yield form.Rule(action=action, peers=peers, ports=ports, index=i, label=label)
