"""What a Calico selector is evaluated against, and the one selector a policy field stands for.

Calico evaluates every selector against one label map per endpoint (facts from libcalico-go's
workload-endpoint conversion and policy update processors, read for facts):

- a pod's own labels plus ``projectcalico.org/namespace``, ``projectcalico.org/orchestrator: k8s``
  and ``projectcalico.org/serviceaccount``; its namespace's labels (with
  ``projectcalico.org/name``) inherited under the prefix ``pcns.``; its service account's labels
  (with ``projectcalico.org/name``) under ``pcsa.``;
- a NetworkSet's labels plus ``projectcalico.org/namespace`` and its namespace's ``pcns.`` labels;
  a GlobalNetworkSet's labels alone.

Policy fields are rewritten into that one map's terms, exactly as Calico does:
a `namespaceSelector` gets the ``pcns.`` prefix (``all()`` becomes "is namespaced", ``global()``
"is not namespaced"); a service-account selector gets ``pcsa.``; service-account names become
``projectcalico.org/serviceaccount in {...}``; a namespaced policy's subject and its rules'
selectors are limited to its own namespace unless a rule has a namespaceSelector.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paramedic.kube import objects
from paramedic.netpol.calico import rules
from paramedic.netpol.calico import selector as sel

NAMESPACE = "projectcalico.org/namespace"
ORCHESTRATOR = "projectcalico.org/orchestrator"
SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
NAME = "projectcalico.org/name"
NS_PREFIX = "pcns."
SA_PREFIX = "pcsa."


def pod_labels(
    pod: Mapping[str, Any],
    namespace_labels: Mapping[str, str],
    service_account_labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The label map Calico's selectors see for a pod's workload endpoint."""
    namespace = objects.namespace(pod)
    account = str(objects.spec(pod).get("serviceAccountName") or "default")
    labels = _inherited(namespace, namespace_labels)
    labels.update((SA_PREFIX + k, v) for k, v in (service_account_labels or {}).items())
    labels[SA_PREFIX + NAME] = account
    labels.update(objects.labels(pod))
    labels[NAMESPACE] = namespace
    labels[ORCHESTRATOR] = "k8s"
    labels[SERVICE_ACCOUNT] = account
    return labels


def network_set_labels(
    network_set: Mapping[str, Any], namespace_labels: Mapping[str, str] | None
) -> dict[str, str]:
    """The label map of a NetworkSet (with its namespace's labels) or a GlobalNetworkSet (None)."""
    namespace = objects.namespace(network_set)
    if namespace_labels is None or not namespace:
        return objects.labels(network_set)
    labels = _inherited(namespace, namespace_labels)
    labels.update(objects.labels(network_set))
    labels[NAMESPACE] = namespace
    return labels


def _inherited(namespace: str, namespace_labels: Mapping[str, str]) -> dict[str, str]:
    labels = {NS_PREFIX + k: v for k, v in namespace_labels.items()}
    labels[NS_PREFIX + NAME] = namespace
    return labels


def prefixed(selector: sel.Selector, prefix: str) -> sel.Selector:
    """Every label the selector tests, renamed with `prefix` (Calico's prefix visitor)."""

    def rename(node: sel.Node) -> sel.Node | None:
        if isinstance(node, sel.Has):
            return sel.Has(prefix + node.label)
        if isinstance(node, sel.Compare):
            return sel.Compare(prefix + node.label, node.op, node.value)
        if isinstance(node, sel.InSet):
            return sel.InSet(prefix + node.label, node.values, node.negated)
        return None

    return selector.map(rename)


def _replace(selector: sel.Selector, kind: type[sel.Node], by: sel.Node) -> sel.Selector:
    return selector.map(lambda node: by if isinstance(node, kind) else None)


_NAMESPACED = sel.Has(NAMESPACE)


def policy_subject(
    *,
    namespace: str,
    selector: sel.Selector | None,
    namespace_selector: sel.Selector | None,
    service_account_selector: sel.Selector | None,
) -> sel.Selector:
    """The endpoints a policy applies to. `namespace` is '' for GlobalNetworkPolicy."""
    if namespace:
        scoped = sel.conjoin(selector, _equals(NAMESPACE, namespace))
        if service_account_selector:
            scoped = sel.conjoin(scoped, prefixed(service_account_selector, SA_PREFIX))
        return scoped
    scoped = sel.conjoin(selector)
    if namespace_selector:
        scoped = sel.conjoin(scoped, prefixed(namespace_selector, NS_PREFIX))
        scoped = _replace(scoped, sel.All, _NAMESPACED)
    if service_account_selector:
        scoped = sel.conjoin(scoped, prefixed(service_account_selector, SA_PREFIX))
        scoped = _replace(scoped, sel.All, sel.Has(SERVICE_ACCOUNT))
    return scoped


def entity_selector(entity: rules.Entity, namespace: str) -> sel.Selector | None:
    """The positive selector of a rule side (None: the rule does not select by identity).

    `namespace` is the policy's ('' for a GlobalNetworkPolicy). The entity's `notSelector` is
    used as written: Calico does not scope it.
    """
    namespace_part: sel.Selector | None = None
    if entity.namespace_selector is not None:
        namespace_part = prefixed(entity.namespace_selector, NS_PREFIX)
        namespace_part = _replace(namespace_part, sel.All, _NAMESPACED)
        namespace_part = _replace(namespace_part, sel.Global, sel.Not(_NAMESPACED))
    elif namespace:
        namespace_part = _equals(NAMESPACE, namespace)
    identity = [p for p in (_service_accounts(entity), entity.selector) if p is not None]
    identity_part = sel.conjoin(*identity) if identity else None
    wanted = identity_part is not None or entity.not_selector is not None
    if namespace_part is not None and (wanted or entity.namespace_selector is not None):
        return sel.conjoin(namespace_part, identity_part)
    return identity_part


def _service_accounts(entity: rules.Entity) -> sel.Selector | None:
    parts = []
    if entity.sa_selector is not None:
        parts.append(prefixed(entity.sa_selector, SA_PREFIX))
    if entity.sa_names:
        parts.append(sel.Selector(sel.InSet(SERVICE_ACCOUNT, frozenset(entity.sa_names))))
    return sel.conjoin(*parts) if parts else None


def _equals(label: str, value: str) -> sel.Selector:
    return sel.Selector(sel.Compare(label, "==", value))
