"""What the mesh knows of a pod: its sidecar, its identity, and the mesh config they depend on.

- **Mesh config**: the `istio` ConfigMap in `istio-system` (`CONFIG_NAMESPACE`, the namespace
  live gathering lists it from: the `network-policy` check's MESH need) holds `data.mesh`, a
  YAML MeshConfig: `rootNamespace` (where mesh-wide policies live; default `istio-system`),
  `trustDomain` (default `cluster.local`) and `trustDomainAliases`.
- **Sidecar**: a Pod has one when it runs a container named `istio-proxy`, as a container or as
  a native sidecar (an init container with `restartPolicy: Always`). A workload's pod template
  without it will still get one at admission when injection is on: the namespace label
  `istio-injection=enabled` or `istio.io/rev`, unless the template says
  `sidecar.istio.io/inject: "false"`; or the template label `sidecar.istio.io/inject: "true"`.
- **Ambient**: a pod redirected to ztunnel (annotation `ambient.istio.io/redirection: enabled`,
  or the label `istio.io/dataplane-mode: ambient` on it or its namespace) is enforced by ztunnel
  and waypoints, which this package does not model (reported as unmodelled).
- **Identity**: a sidecar pod's peer principal is `<trust domain>/ns/<namespace>/sa/<service
  account>`, present only over mutual TLS; a pod without sidecar has none.

The evaluators see these facts as labels under keys no Kubernetes label can have (`SIDECAR`,
`PRINCIPAL`), added by `labels` (the layer's `pod_labels`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic.evidence import needs, yamltext
from paramedic.kube import objects, pods

SIDECAR = ":istio/sidecar"
PRINCIPAL = ":istio/principal"
PROXY = "istio-proxy"
DEFAULT_ROOT = "istio-system"
CONFIG_NAMESPACE = needs.MESH_NAMESPACE
DEFAULT_TRUST_DOMAIN = "cluster.local"
INJECT = "sidecar.istio.io/inject"
DATAPLANE_MODE = "istio.io/dataplane-mode"
REDIRECTION = "ambient.istio.io/redirection"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Mesh:
    root_namespace: str = DEFAULT_ROOT
    trust_domain: str = DEFAULT_TRUST_DOMAIN
    aliases: tuple[str, ...] = ()
    source: str = "defaults (no istio ConfigMap in the evidence)"
    problem: str = ""
    """Why `data.mesh` could not be read (then the fields are Istio's defaults, a guess)."""
    config_namespace: str = ""

    @property
    def trust_domains(self) -> tuple[str, ...]:
        return (self.trust_domain, *self.aliases)


def config(config_maps: tuple[Mapping[str, Any], ...]) -> Mesh:
    """The mesh config from the `istio` ConfigMap (callers pass those of `CONFIG_NAMESPACE`: a
    bundle and a live gathering hold the same ones), else Istio's defaults. A `mesh` entry that
    is not a YAML mapping gives the defaults with `problem` saying why, never an error."""
    found = [
        c
        for c in config_maps
        if objects.name(c) == "istio"
        and isinstance(objects.as_dict(c.get("data")).get("mesh"), str)
    ]
    if not found:
        return Mesh()
    found.sort(key=lambda c: objects.namespace(c) != DEFAULT_ROOT)
    chosen = found[0]
    problem = ""
    try:
        mesh = yamltext.load(chosen["data"]["mesh"])
    except yamltext.NotYaml as exc:
        mesh, problem = None, str(exc)
    if mesh is not None and not isinstance(mesh, dict):
        problem = "not a mapping"
    mesh = mesh if isinstance(mesh, dict) else {}
    aliases = tuple(str(a) for a in objects.as_list(mesh.get("trustDomainAliases")) if a)
    return Mesh(
        root_namespace=str(mesh.get("rootNamespace") or objects.namespace(chosen) or DEFAULT_ROOT),
        trust_domain=str(mesh.get("trustDomain") or DEFAULT_TRUST_DOMAIN),
        aliases=aliases,
        source=f"ConfigMap {objects.namespace(chosen)}/istio",
        problem=problem,
        config_namespace=objects.namespace(chosen),
    )


def has_sidecar(obj: Mapping[str, Any] | None, namespace_labels: Mapping[str, str]) -> bool:
    """Whether the pod (or the pods a workload's template makes) runs Istio's sidecar proxy."""
    if obj is None:
        return False
    spec = pods.pod_spec(obj)
    if any(_is_proxy(c, native=False) for c in objects.as_list(spec.get("containers"))):
        return True
    if any(_is_proxy(c, native=True) for c in objects.as_list(spec.get("initContainers"))):
        return True
    if obj.get("kind", "Pod") == "Pod":
        return False  # admission already ran: what the pod runs is the answer
    template = pods.template_labels(obj)
    wanted = template.get(INJECT) or objects.annotations(
        objects.as_dict(objects.spec(obj).get("template"))
    ).get(INJECT)
    if wanted is not None:
        return str(wanted).lower() == "true"
    return namespace_labels.get("istio-injection") == "enabled" or (
        "istio.io/rev" in namespace_labels and namespace_labels.get("istio-injection") != "disabled"
    )


def _is_proxy(container: Any, *, native: bool) -> bool:
    if not isinstance(container, dict) or container.get("name") != PROXY:
        return False
    return not native or container.get("restartPolicy") == "Always"


def ambient(obj: Mapping[str, Any] | None, namespace_labels: Mapping[str, str]) -> bool:
    """Whether ztunnel (ambient mode), not a sidecar, handles the pod's traffic."""
    if obj is not None:
        if objects.annotations(obj).get(REDIRECTION) == "enabled":
            return True
        own = objects.labels(obj).get(DATAPLANE_MODE)
        if own is not None:
            return own == "ambient"
    return namespace_labels.get(DATAPLANE_MODE) == "ambient"


def principal(mesh: Mesh, namespace: str, obj: Mapping[str, Any] | None) -> str:
    account = str(pods.pod_spec(obj).get("serviceAccountName") or "default") if obj else "default"
    return f"{mesh.trust_domain}/ns/{namespace}/sa/{account}"


def labels(
    mesh: Mesh,
    namespace_labels: Mapping[str, str],
    namespace: str,
    own: Mapping[str, str],
    obj: Mapping[str, Any] | None,
) -> Mapping[str, str]:
    """`own` plus the mesh facts (`SIDECAR`, `PRINCIPAL`) when the pod has a sidecar."""
    if not has_sidecar(obj, namespace_labels):
        return own
    return {**own, SIDECAR: "true", PRINCIPAL: principal(mesh, namespace, obj)}
