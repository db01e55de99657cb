"""Calico endpoints as the compiled form sees them: their label maps and the predicate over them.

Under Calico every selector (its own, and the Kubernetes NetworkPolicies it converts) is matched
against one label map per workload endpoint (`compose.pod_labels`: the pod's labels plus what
Calico adds from its namespace and service account). `labels` builds that map for the
evaluators (the layer hands it to the compiled form); it also carries the pod's address under
`IP_LABEL`, a key no Kubernetes label or Calico selector can spell, so a rule's `nets` on its
own side (an ingress rule's destination, an egress rule's source) is a label test too.

`Match` is the `form.LabelMatch` the Calico layer compiles to: a selector AND address ranges.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects, pods
from paramedic.netpol.calico import compose, rules, view
from paramedic.netpol.calico import selector as sel

IP_LABEL = ":ip"


def labels(
    calico: view.View, namespace: str, own: Mapping[str, str], obj: Mapping[str, Any] | None
) -> dict[str, str]:
    """The label map Calico's selectors see for a pod (or a workload's pod template)."""
    spec = pods.pod_spec(obj) if obj is not None else {}
    account = str(spec.get("serviceAccountName") or "default")
    found = compose.pod_labels(
        {"metadata": {"namespace": namespace, "labels": dict(own)}, "spec": spec},
        view.namespace_or_default(calico.namespace_labels, namespace),
        calico.account_labels.get((namespace, account)),
    )
    address = objects.status(obj).get("podIP") if obj is not None else None
    if address:
        found[IP_LABEL] = str(address)
    return found


@dataclasses.dataclass(frozen=True, slots=True)
class Match:
    """Endpoints whose label map the selector matches and whose address is in `nets` (when
    given) and in none of `not_nets`."""

    selector: sel.Selector
    nets: tuple[rules.Network, ...] | None = None
    not_nets: tuple[rules.Network, ...] = ()

    @property
    def key(self) -> str:
        nets = "-" if self.nets is None else ",".join(map(str, self.nets))
        return f"{self.selector.key}|{nets}|{','.join(map(str, self.not_nets))}"

    @property
    def keys(self) -> frozenset[str]:
        extra = {IP_LABEL} if self.nets is not None or self.not_nets else set()
        return self.selector.keys | extra

    @property
    def required(self) -> Mapping[str, str]:
        return self.selector.required

    def matches(self, found: Mapping[str, str]) -> bool:
        if not self.selector.matches(found):
            return False
        if self.nets is None and not self.not_nets:
            return True
        text = found.get(IP_LABEL)
        try:
            address = ipaddress.ip_address(text) if text else None
        except ValueError:
            address = None
        if self.nets is not None and (address is None or not within(address, self.nets)):
            return False
        return address is None or not within(address, self.not_nets)

    def describe(self) -> str:
        parts = [self.selector.text]
        if self.nets is not None:
            parts.append(f"address in {', '.join(map(str, self.nets))}")
        if self.not_nets:
            parts.append(f"address not in {', '.join(map(str, self.not_nets))}")
        return " and ".join(parts)


def within(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: tuple[rules.Network, ...]
) -> bool:
    return any(address.version == n.version and address in n for n in nets)
