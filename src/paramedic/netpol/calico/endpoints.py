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
import functools
import ipaddress
from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects, pods
from paramedic.netpol.calico import compose, rules, view
from paramedic.netpol.calico import selector as sel

IP_LABEL = ":ip"
NAME_LABEL = "kubernetes.io/metadata.name"


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
    """Endpoints that `within` matches (when given), that `selector` matches or whose address
    lies in `also` (the nets of network sets it selects), that `not_selector` does not match,
    whose address is in `nets` (when given) and in none of `not_nets`."""

    selector: sel.Selector
    within: sel.Selector | None = None
    not_selector: sel.Selector | None = None
    also: tuple[rules.Network, ...] = ()
    nets: tuple[rules.Network, ...] | None = None
    not_nets: tuple[rules.Network, ...] = ()
    key: str = dataclasses.field(init=False, compare=False, repr=False)
    keys: frozenset[str] = dataclasses.field(init=False, compare=False, repr=False)
    required: Mapping[str, str] = dataclasses.field(init=False, compare=False, repr=False)
    _by_address: bool = dataclasses.field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_address = bool(self.also) or self.nets is not None or bool(self.not_nets)
        parts = (self.within, self.selector, self.not_selector)
        nets = "-" if self.nets is None else _text(self.nets)
        key = "|".join(
            (*(p.key if p else "-" for p in parts), _text(self.also), nets, _text(self.not_nets))
        )
        keys = {k for p in parts if p is not None for k in p.keys}
        required = {} if self.also else dict(self.selector.required)
        if self.within is not None:
            required |= self.within.required
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "keys", frozenset(keys | ({IP_LABEL} if by_address else set())))
        object.__setattr__(self, "required", required)
        object.__setattr__(self, "_by_address", by_address)

    def matches(self, found: Mapping[str, str]) -> bool:
        if self.within is not None and not self.within.matches(found):
            return False
        if not self._by_address:
            return self.selector.matches(found) and not (
                self.not_selector is not None and self.not_selector.matches(found)
            )
        address = _address(found.get(IP_LABEL))
        in_also = address is not None and within(address, self.also)
        if not (in_also or self.selector.matches(found)):
            return False
        if self.not_selector is not None and self.not_selector.matches(found):
            return False
        if self.nets is not None and (address is None or not within(address, self.nets)):
            return False
        return address is None or not within(address, self.not_nets)

    def describe(self) -> str:
        parts = [self.within.text] if self.within is not None else []
        if self.also:
            parts.append(f"({self.selector.text} or address in {_text(self.also)})")
        else:
            parts.append(self.selector.text)
        if self.not_selector is not None:
            parts.append(f"not {self.not_selector.text}")
        if self.nets is not None:
            parts.append(f"address in {_text(self.nets)}")
        if self.not_nets:
            parts.append(f"address not in {_text(self.not_nets)}")
        return " and ".join(parts)


@dataclasses.dataclass(frozen=True, slots=True)
class NamespaceMatch:
    """A Calico namespaceSelector over a namespace's own labels (and projectcalico.org/name):
    the evaluators narrow by it before testing pods. (`all()` and `global()` never get here.)"""

    selector: sel.Selector

    @property
    def key(self) -> str:
        return f"namespaces {self.selector.key}"

    @property
    def keys(self) -> frozenset[str]:
        # `matches` gives the selector projectcalico.org/name from the name label
        keys = self.selector.keys
        return keys - {compose.NAME} | {NAME_LABEL} if compose.NAME in keys else keys

    @property
    def required(self) -> Mapping[str, str]:
        return {}

    def matches(self, found: Mapping[str, str]) -> bool:
        name = found.get(NAME_LABEL, "")
        return self.selector.matches({**found, compose.NAME: name})

    def describe(self) -> str:
        return f"namespaces {self.selector.text}"


def _text(nets: tuple[rules.Network, ...]) -> str:
    return ", ".join(map(str, nets))


@functools.lru_cache(maxsize=65536)
def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text) if text else None
    except ValueError:
        return None


def within(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: tuple[rules.Network, ...]
) -> bool:
    return any(address.version == n.version and address in n for n in nets)
