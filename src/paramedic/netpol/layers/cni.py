"""Which CNI enforces policy, read from the evidence (`--cni auto`), and why we think so.

Evidence, strongest first: the CNI's agent pods or DaemonSet (`cilium` / `cilium-agent`,
`calico-node`, `canal` - Calico's policy agent beside flannel), then its ConfigMap
(`cilium-config`, `calico-config`), then its CustomResourceDefinitions or any object of its API
groups (`cilium.io`; `projectcalico.org`, `crd.projectcalico.org`). Nothing found: upstream
semantics. The answer always says which object it rests on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.evidence import needs
from paramedic.kube import objects
from paramedic.netpol import cluster

AGENTS = {"cilium": ("cilium", "cilium-agent"), "calico": ("calico-node", "canal")}
CONFIGMAPS = {"cilium": "cilium-config", "calico": "calico-config"}
GROUPS = {
    "cilium": ("cilium.io",),
    "calico": ("projectcalico.org", "crd.projectcalico.org"),
}


def _agent_of(obj: Mapping[str, Any]) -> str | None:
    labels = objects.labels(obj)
    names = {labels.get("k8s-app", ""), labels.get("app.kubernetes.io/name", "")}
    if obj.get("kind") == "DaemonSet":
        names.add(objects.name(obj))
    for cni, agents in AGENTS.items():
        if names & set(agents):
            return cni
    return None


def detect(view: cluster.Cluster) -> tuple[str, str]:
    """(cni name, why): 'calico' | 'cilium' | 'upstream'."""
    for kind in ("DaemonSet", "Pod"):
        for obj in view.objects(kind):
            cni = _agent_of(obj)
            if cni is not None:
                return cni, f"{kind} {objects.namespace(obj)}/{objects.name(obj)} is its agent"
    for obj in (c for ns in needs.CNI_NAMESPACES for c in view.objects("ConfigMap", ns)):
        for cni, name in CONFIGMAPS.items():
            if objects.name(obj) == name:
                return cni, f"ConfigMap {objects.namespace(obj)}/{name} is its configuration"
    for obj in view.objects("CustomResourceDefinition"):
        for cni, groups in GROUPS.items():
            if objects.name(obj).endswith(tuple(f".{g}" for g in groups)):
                return cni, f"CustomResourceDefinition {objects.name(obj)} is installed"
    if view.evidence is not None:
        for kind, items in view.evidence.index.by_kind.items():
            for obj in items[:1]:
                group = str(obj.get("apiVersion") or "").rpartition("/")[0]
                for cni, groups in GROUPS.items():
                    if group in groups:
                        return cni, f"the evidence holds {kind} objects ({group})"
    return "upstream", "no Calico or Cilium agent, CRD or object in the evidence"
