"""Istio as a layer: the sidecar proxy in front of a pod, the last enforcement point (stage MESH).

Its tiers belong to their own enforcement point (`POINT`): a flow the CNI's tiers allow must
still pass the destination's sidecar, for TCP (Istio's sidecar does not proxy UDP or SCTP, so
those pass). Three tiers, ingress only (AuthorizationPolicy and PeerAuthentication act on the
server's inbound side), each selecting only pods with a sidecar:

    istio-mtls   PeerAuthentication (`istio.mtls`): STRICT refuses a client without sidecar
    istio-deny   DENY AuthorizationPolicies: a matching rule denies; else on (end Pass)
    istio-allow  ALLOW AuthorizationPolicies: a matching rule allows; a workload some ALLOW
                 policy selects is denied what none matches (end Deny); a policy without
                 rules selects and matches nothing, so it denies all

Scope: a policy in the root namespace (mesh config `rootNamespace`, default istio-system)
applies mesh-wide (its selector, if any, in every namespace), one elsewhere to its namespace,
narrowed by `selector.matchLabels`; a policy with `targetRef(s)` applies to gateways and
waypoints, never to sidecars. Mesh-wide policies are cluster-scoped in the compiled form and
named `<root namespace>/<name>`. CUSTOM (an external authorizer), policies with `targetRefs`,
rules using attributes not modelled and pods in ambient mode are reported as unmodelled; AUDIT
and dry-run policies never change a verdict and are left out.
"""

from __future__ import annotations

from typing import Any

from paramedic.kube import objects
from paramedic.netpol import form, model, policies
from paramedic.netpol.istio import match, mesh, mtls, resources, rules
from paramedic.netpol.layers import base

LAYER_NAME = "istio"
POINT = "sidecar"
AUTHZ = "AuthorizationPolicy"
KINDS = frozenset({(resources.GROUP, AUTHZ), (resources.GROUP, mtls.KIND)})
NOT_PROXIED = form.Rule(
    action=form.Action.PASS,
    peers=None,
    ports=(policies.PortSpec(protocol="UDP"), policies.PortSpec(protocol="SCTP")),
    index=-1,
    label="non-TCP traffic (the sidecar does not authorize it)",
)


def compile_layer(ctx: base.Context) -> base.Output:
    authz = [o for o in ctx.view.objects(AUTHZ) if resources.is_istio(o, AUTHZ)]
    peer = [o for o in ctx.view.objects(mtls.KIND) if resources.is_istio(o, mtls.KIND)]
    if not authz and not peer:
        return base.Output()
    config = mesh.config(ctx.view.objects("ConfigMap", mesh.CONFIG_NAMESPACE))
    invalid: list[form.Invalid] = []
    unmodelled: list[model.Unmodelled] = []
    parsed_authz: list[resources.AuthorizationPolicy] = []
    parsed_peer: list[resources.PeerAuthentication] = []
    for obj in authz:
        _sort(resources.authorization_policy(obj), parsed_authz, invalid, config)
    for obj in peer:
        _sort(resources.peer_authentication(obj), parsed_peer, invalid, config)
    tiers: list[form.Tier] = []
    found = mtls.tier(parsed_peer, config, LAYER_NAME, POINT)
    tiers += [found] if found is not None else []
    by_action: dict[str, list[form.Policy]] = {"DENY": [], "ALLOW": []}
    uses_identity = False
    for p in sorted(parsed_authz, key=lambda p: (p.namespace, p.name)):
        why = _not_evaluated(p)
        if why is not None:
            unmodelled.append(_unmodelled(p.namespace, p.name, p.api_version, why, AUTHZ))
            continue
        if p.dry_run or p.action not in by_action:
            continue
        compiled = rules.compile_rules(p, config)
        uses_identity = uses_identity or compiled.uses_identity
        unmodelled += [
            _unmodelled(p.namespace, p.name, p.api_version, why, AUTHZ)
            for why in compiled.unmodelled
        ]
        by_action[p.action].append(_policy(p, compiled.rules, config))
    if by_action["DENY"]:
        tiers.append(
            form.Tier.of("istio-deny", LAYER_NAME, form.Action.PASS, by_action["DENY"], POINT)
        )
    if by_action["ALLOW"]:
        tiers.append(
            form.Tier.of("istio-allow", LAYER_NAME, form.Action.DENY, by_action["ALLOW"], POINT)
        )
    if uses_identity:
        unmodelled += [
            _unmodelled(p.namespace, p.name, p.api_version, _DISABLED, mtls.KIND)
            for p in parsed_peer
            if "DISABLE" in (p.mode, *p.port_modes.values())
        ]
    unmodelled += _ambient(ctx, config) + _unread_mesh(config)
    return base.Output(
        tiers=tuple(tiers),
        invalid=tuple(invalid),
        unmodelled=tuple(unmodelled),
        pod_labels=lambda ns, own, obj: mesh.labels(
            config, ctx.view.namespace_labels(ns), ns, own, obj
        ),
    )


_DISABLED = (
    "mtls DISABLE: connections to these workloads are plaintext, so they carry no principal "
    "or namespace for an AuthorizationPolicy to match (not modelled)"
)


def _sort(
    item: object,
    good: list[Any],
    invalid: list[form.Invalid],
    config: mesh.Mesh,
) -> None:
    if isinstance(item, resources.Invalid):
        mesh_wide = item.namespace == config.root_namespace
        invalid.append(
            form.Invalid(
                kind=item.kind,
                namespace="" if mesh_wide else item.namespace,
                name=f"{item.namespace}/{item.name}" if mesh_wide else item.name,
                problems=item.problems,
            )
        )
    else:
        good.append(item)


def _not_evaluated(p: resources.AuthorizationPolicy) -> str | None:
    if p.action == "CUSTOM":
        return "action CUSTOM: an external authorizer decides (not modelled)"
    if p.target_refs:
        return "targetRef(s): applies to a gateway or waypoint, never to a sidecar (not modelled)"
    return None


def _policy(
    p: resources.AuthorizationPolicy, compiled: tuple[form.Rule, ...], config: mesh.Mesh
) -> form.Policy:
    mesh_wide = p.namespace == config.root_namespace
    who = match.Identity(selector=dict(p.selector) if p.selector else None, sidecar=True)
    where = " (mesh-wide)" if mesh_wide else f" in namespace {p.namespace}"
    ingress = (NOT_PROXIED, *compiled) if p.action == "ALLOW" else compiled
    return form.Policy(
        kind=AUTHZ,
        namespace="" if mesh_wide else p.namespace,
        name=f"{p.namespace}/{p.name}" if mesh_wide else p.name,
        tier=f"istio-{p.action.lower()}",
        order=None,
        subject=form.Term(
            key=f"istio|{'*' if mesh_wide else p.namespace}|{who.key}",
            text=f"workloads {who.describe()}{where}",
            namespace=None if mesh_wide else p.namespace,
            pods=who,
        ),
        directions=frozenset({model.Direction.INGRESS}),
        ingress=ingress,
        egress=(),
        source=p,
    )


def _unmodelled(ns: str, name: str, api_version: str, why: str, kind: str) -> model.Unmodelled:
    where = f" -n {ns}" if ns else ""
    return model.Unmodelled(
        kind=kind,
        api_version=api_version,
        namespace=ns,
        name=name,
        why=why,
        command=f"kubectl get {form.resource(kind, resources.GROUP)} {name}{where} -o yaml",
    )


def _unread_mesh(config: mesh.Mesh) -> list[model.Unmodelled]:
    """A mesh config whose `data.mesh` is not YAML: its root namespace and trust domain, which
    every policy's scope and principals depend on, are unknown (mesh-wide, so cluster-scoped)."""
    if not config.problem:
        return []
    ns = config.config_namespace
    return [
        model.Unmodelled(
            kind="ConfigMap",
            api_version="v1",
            namespace="",
            name=f"{ns}/istio",
            why=f"data.mesh is not readable ({config.problem}): the mesh's root namespace and "
            "trust domain are unknown, so Istio policies cannot be scoped or matched",
            command=f"kubectl get configmap istio -n {ns} -o jsonpath='{{.data.mesh}}'",
        )
    ]


def _ambient(ctx: base.Context, config: mesh.Mesh) -> list[model.Unmodelled]:
    """Namespaces with pods that ztunnel (ambient mode), not a sidecar, handles."""
    spaces = sorted(
        {
            objects.namespace(p)
            for p in ctx.view.pods
            if mesh.ambient(p, ctx.view.namespace_labels(objects.namespace(p)))
        }
    )
    return [
        model.Unmodelled(
            kind="Namespace",
            api_version="v1",
            namespace=ns,
            name=ns,
            why="pods in Istio ambient mode: ztunnel and waypoints enforce Istio policy for "
            "them (not modelled)",
            command=f"kubectl get pods -n {ns} -L {mesh.DATAPLANE_MODE}",
        )
        for ns in spaces
    ]


LAYERS = (base.Layer(name=LAYER_NAME, stage=base.MESH, kinds=KINDS, compile=compile_layer),)
