"""The predicate Istio's terms compile to: workload selector, sidecar, peer identity.

`Identity` is a `form.LabelMatch` over the label map `mesh.labels` makes (a pod's labels plus
`:istio/sidecar` and `:istio/principal`). Identity conditions are matched as Envoy's RBAC filter
matches them, on the peer certificate's URI `spiffe://<principal>`, and need mutual TLS: a pod
without sidecar, an address outside the mesh has no principal, so a positive condition never
matches it and a negated one always does.

- principals: `*` any identity, `abc*` prefix, `*abc` suffix, else exact;
- namespaces: the URI matches `.*/ns/<value>/.*`, each `*` in the value being `.*`;
- serviceAccounts: `<ns>/<sa>` or `<sa>` (the policy's namespace): `/ns/<ns>/` then `sa/<sa>`;
- trustDomains: `*` any, `a*b` with `*` inside one segment, else exact.

Workload selectors are `matchLabels` only: a subset of the pod's labels.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping

from paramedic.netpol.istio import mesh

URI = "spiffe://"


@dataclasses.dataclass(frozen=True, slots=True)
class Condition:
    text: str
    patterns: tuple[re.Pattern[str], ...]
    negated: bool = False
    exact: frozenset[str] = frozenset()
    """URIs matched as they are (exact principals): a set lookup instead of a pattern."""

    def holds(self, uri: str | None) -> bool:
        found = uri is not None and (
            uri in self.exact or any(p.fullmatch(uri) for p in self.patterns)
        )
        return found != self.negated


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    """Pods whose labels include `selector`, that have (True) / lack (False) a sidecar when
    `sidecar` says so, whose identity meets every condition, and that no `excluding` selects."""

    selector: Mapping[str, str] | None = None
    sidecar: bool | None = None
    conditions: tuple[Condition, ...] = ()
    excluding: tuple[Mapping[str, str], ...] = ()

    @property
    def key(self) -> str:
        return "istio|" + json.dumps(
            [
                self.selector,
                self.sidecar,
                [(c.text, c.negated) for c in self.conditions],
                list(self.excluding),
            ],
            sort_keys=True,
        )

    @property
    def keys(self) -> frozenset[str]:
        found = set(self.selector or ())
        for other in self.excluding:
            found |= set(other)
        if self.sidecar is not None:
            found.add(mesh.SIDECAR)
        if self.conditions:
            found.add(mesh.PRINCIPAL)
        return frozenset(found)

    @property
    def required(self) -> Mapping[str, str]:
        wanted = dict(self.selector or {})
        if self.sidecar:
            wanted[mesh.SIDECAR] = "true"
        return wanted

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.selector and any(labels.get(k) != v for k, v in self.selector.items()):
            return False
        if self.sidecar is not None and (labels.get(mesh.SIDECAR) == "true") != self.sidecar:
            return False
        if any(all(labels.get(k) == v for k, v in other.items()) for other in self.excluding):
            return False
        if self.conditions:
            principal = labels.get(mesh.PRINCIPAL)
            uri = URI + principal if principal else None
            return all(c.holds(uri) for c in self.conditions)
        return True

    def describe(self) -> str:
        parts = []
        if self.selector:
            parts.append(",".join(f"{k}={v}" for k, v in sorted(self.selector.items())))
        if self.sidecar is not None:
            parts.append("with a sidecar" if self.sidecar else "without a sidecar")
        parts += [c.text for c in self.conditions]
        if self.excluding:
            parts.append("not selected by an older workload policy")
        return " ".join(parts) or "any workload"


def principal(value: str) -> re.Pattern[str]:
    if value == "*":
        return re.compile(re.escape(URI) + ".+")
    if value.endswith("*"):
        return re.compile(re.escape(URI + value[:-1]) + ".*")
    if value.startswith("*"):
        return re.compile(".*" + re.escape(value[1:]))
    return re.compile(re.escape(URI + value))


def namespace(value: str) -> re.Pattern[str]:
    body = ".*".join(re.escape(part) for part in value.split("*"))
    return re.compile(f".*/ns/{body}/.*")


def service_account(value: str, policy_namespace: str) -> re.Pattern[str]:
    ns, _, sa = value.partition("/") if "/" in value else (policy_namespace, "", value)
    return re.compile(re.escape(URI) + f".+/ns/{re.escape(ns)}/(.+/|)sa/{re.escape(sa)}(/.+)?")


def trust_domain(value: str) -> re.Pattern[str]:
    if value == "*":
        return re.compile(re.escape(URI) + ".*")
    if "*" not in value:
        return re.compile(re.escape(f"{URI}{value}/") + ".*")
    before, _, after = value.partition("*")
    return re.compile(re.escape(URI + before) + "[^/]*" + re.escape(after) + "/.*")


def principals_in_mesh(values: tuple[str, ...], config: mesh.Mesh) -> tuple[str, ...]:
    """Principals as Istio rewrites them for its trust domain and aliases: one naming
    `cluster.local` or a domain of the mesh stands for every domain of the mesh."""
    out: list[str] = []
    for value in values:
        parts = value.split("/")
        domain = parts[0]
        if (
            len(parts) != 5
            or domain == "*"
            or (domain not in config.trust_domains and domain != mesh.DEFAULT_TRUST_DOMAIN)
        ):
            out.append(value)
            continue
        for own in config.trust_domains:
            keep = domain.startswith("*") and own.endswith(domain[1:])
            out.append(value if keep else "/".join((own, *parts[1:])))
    return tuple(dict.fromkeys(out))


def exact_principals(values: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(URIs of the values without a wildcard, the other values)."""
    exact = frozenset(URI + v for v in values if "*" not in v)
    return exact, tuple(v for v in values if "*" in v)


def pinned_namespace(meaning: str, value: str, policy_namespace: str) -> str | None:
    """The one namespace an identity value implies, if it does (`td/ns/NS/sa/SA`, `NS`,
    `NS/SA`): a peer matching it is a pod of that namespace. None: any namespace could."""
    if meaning == "namespace":
        return None if "*" in value else value
    if meaning == "serviceAccount":
        return value.partition("/")[0] if "/" in value else policy_namespace
    if meaning != "principal":
        return None
    body = value.strip("*")
    parts = body.split("/")
    if "ns" not in parts:
        return None
    at = parts.index("ns")
    whole = at + 2 < len(parts) or (at + 1 < len(parts) and not value.endswith("*"))
    if at + 1 >= len(parts) or not whole or (at == 0 and not value.startswith("*")):
        return None
    return parts[at + 1] or None
