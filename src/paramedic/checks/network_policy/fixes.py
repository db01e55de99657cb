"""The fix of a blocked flow, in the deciding layer's terms: each object the minimal patch
creates as a paste-able `kubectl` (or `calicoctl`) step, each deny rule it narrows in place as
a patch, the in-place alternatives, one rollback line, why it works, and how to verify it.
The patch itself (objects and blast radius) is computed by paramedic.netpol.patch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.checks import model
from paramedic.evidence import model as evidence_model
from paramedic.evidence import yamltext
from paramedic.kube import objects, resolve
from paramedic.netpol import form, patch
from paramedic.netpol.calico import fix as calico_fix


def fix(
    ev: evidence_model.Evidence,
    scope: resolve.Scope,
    made: patch.Patch,
    protocol: str,
    port: int,
) -> model.Fix:
    """The steps that apply `made`, its alternatives and its rollback."""
    names = [objects.ref(o).partition(" ")[2] for o in made.objects]
    steps = tuple(_create(ev, n, o) for n, o in zip(names, made.objects, strict=True))
    steps += tuple(
        model.FixStep(
            description=f"Narrow the deny rule of {e.target} so it no longer matches this flow "
            "(no allow rule can outrank a Cilium deny)",
            language="shell",
            content=e.command,
            action={"op": "patch", "target": e.target, "patch": [dict(e.op)]},
        )
        for e in made.edits
    )
    alternatives = tuple(
        calico_fix.commands(o, ev)[0] for o in made.objects if calico_fix.is_v3(o)
    ) + tuple(
        f"edit {p.target} in place instead (opens {p.opened} flow{'s' if p.opened != 1 else ''}): "
        f"{p.command}"
        for p in made.in_place
    )
    rollback = "; ".join(
        [*(_delete(o, ev) for o in made.objects), *(e.undo_command for e in made.edits)]
    )
    return model.Fix(
        summary=f"{_doing(names, made.edits)}: allow exactly {protocol} {port} from "
        f"{scope.source} to {scope.target}",
        steps=steps,
        alternatives=alternatives,
        rollback=rollback,
    )


def _create(ev: evidence_model.Evidence, name: str, obj: Mapping[str, Any]) -> model.FixStep:
    """The paste-as-is step creating one object, with the tool that can (kubectl, calicoctl)."""
    tool = calico_fix.tool(ev, obj)
    return model.FixStep(
        description=f"Create {_kind(obj)} {name} (paste as is"
        + (f"; {calico_fix.CRD_ONLY_WHY})" if tool == "calicoctl" else ")"),
        language="shell",
        content=f"{tool} apply -f - <<'EOF'\n" + yamltext.manifests(obj) + "EOF\n",
        action={"op": "create", "object": obj},
    )


def why(layer: str) -> str:
    """Why the fix works, for the layer that decided the denial."""
    return {
        "admin": _ADMIN_WHY,
        "calico": _CALICO_WHY,
        "cilium": _CILIUM_WHY,
        "istio": _ISTIO_WHY,
    }.get(layer, _WHY)


def verify(scope: resolve.Scope) -> str:
    src = (
        objects.name(scope.source_workload)
        if scope.source_workload
        else (objects.name(scope.source_pods[0]) if scope.source_pods else scope.source)
    )
    target = (
        scope.target_host
        if scope.external
        else (f"{scope.target_namespace}/{objects.name(scope.target_service or {})}")
    )
    return (
        f"paramedic diagnose -n {scope.namespace} --from {src} --to {target} --port {scope.port}"
        "  # expect network-policy under 'Ruled out'"
    )


_WHY = (
    "NetworkPolicies only add allowances: once a policy isolates a pod for a direction, "
    "the union of all rules of all policies selecting it is what passes, in no order. "
    "A new policy that selects only these pods and admits only this peer (namespace by name "
    "plus its identifying labels) on this protocol and port opens exactly the listed flows "
    "and leaves every other denial in place; rollback is one delete."
)
_ADMIN_WHY = (
    "An AdminNetworkPolicy is evaluated before every NetworkPolicy: lower priority numbers "
    "first, rules in order, and an Allow or Deny there is final, so no NetworkPolicy can open "
    "what it denies. An Allow rule that admits only this peer on this port, in a policy of "
    "higher precedence (a lower priority number) selecting only these pods, opens exactly the "
    "listed flows and leaves the Deny in place for everything else; rollback is one delete."
)


_CALICO_WHY = (
    "Calico evaluates its tiers in order (lower order first), the policies of a tier in order, "
    "and rules in order: a Deny there is final, so no Kubernetes NetworkPolicy (default tier, "
    "order 1000) can open what it denies. A Calico policy in the same tier with a lower order, "
    "selecting only these pods and allowing only this peer on this port, is evaluated first and "
    "opens exactly the listed flows; the Deny stays in place for everything else; rollback is "
    "one delete."
)


_CILIUM_WHY = (
    "Cilium applies every deny rule of every policy selecting a pod before any allow rule, and "
    "allow rules of all policies (CiliumNetworkPolicies and NetworkPolicies alike) are a union. "
    "A pod in default deny is opened by a CiliumNetworkPolicy that selects only these pods and "
    "admits only this peer on this port; a matching deny rule cannot be outranked, so it is "
    "narrowed to leave out exactly this peer. The blast radius is computed from the matrix "
    "before and after; rollback is one delete, or the patch's undo."
)


def _doing(names: list[str], edits: tuple[Any, ...]) -> str:
    parts = [f"create {', '.join(names)}"] if names else []
    parts += [f"narrow the deny rule of {e.target}" for e in edits]
    return " and ".join(parts) or "change nothing"


_ISTIO_WHY = (
    "The destination's Istio sidecar refuses the connection after the network let it through "
    "(the client sees it closed right after it opened). PeerAuthentication STRICT accepts only "
    "mutual TLS, which a client without sidecar cannot speak; a DENY AuthorizationPolicy beats "
    "every ALLOW; once an ALLOW policy selects the workload, only what one of its rules matches "
    "gets in. For STRICT, injecting the client is safer than a plaintext exception: it keeps "
    "the connection authenticated and encrypted and gives the client a principal to name, "
    "while portLevelMtls PERMISSIVE accepts plaintext on that port from every client without "
    "sidecar; each fix opens exactly the flows listed for it, and rollback is one delete."
)


def _kind(obj: Mapping[str, Any]) -> str:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kind = str(obj["kind"])
    return f"{kind}.{group}" if kind == "NetworkPolicy" and group == calico_fix.GROUP else kind


def _delete(obj: Mapping[str, Any], ev: evidence_model.Evidence) -> str:
    kind = str(obj["kind"])
    if calico_fix.is_v3(obj):
        return calico_fix.commands(obj, ev)[1]
    if kind == "NetworkPolicy":
        return f"kubectl -n {objects.namespace(obj)} delete networkpolicy {objects.name(obj)}"
    group = str(obj["apiVersion"]).rpartition("/")[0]
    where = f"-n {objects.namespace(obj)} " if objects.namespace(obj) else ""
    return f"kubectl {where}delete {form.resource(kind, group)} {objects.name(obj)}"
