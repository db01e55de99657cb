"""Small builders for Calico test objects, and one call that asks Calico's verdict on a flow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paramedic.kube import objects
from paramedic.netpol import model
from paramedic.netpol.calico import match, view

V3 = "projectcalico.org/v3"
CRD = "crd.projectcalico.org/v1"


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(
    ns: str,
    name: str,
    ip: str,
    labels: Mapping[str, str] | None = None,
    account: str = "default",
    ports: Sequence[tuple[str, int, str]] = (),
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"namespace": ns, "name": name, "labels": dict(labels or {})},
        "spec": {
            "serviceAccountName": account,
            "containers": [
                {
                    "name": "main",
                    "ports": [
                        {"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports
                    ],
                }
            ],
        },
        "status": {"podIP": ip, "hostIP": "192.168.0.1"},
    }


def gnp(name: str, api: str = V3, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api,
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def np(ns: str, name: str, api: str = V3, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api,
        "kind": "NetworkPolicy",
        "metadata": {"namespace": ns, "name": name},
        "spec": spec,
    }


def tier(name: str, order: float | None = None, action: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if order is not None:
        spec["order"] = order
    if action is not None:
        spec["defaultAction"] = action
    return {"apiVersion": V3, "kind": "Tier", "metadata": {"name": name}, "spec": spec}


def global_set(name: str, nets: list[str], **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": V3,
        "kind": "GlobalNetworkSet",
        "metadata": {"name": name, "labels": labels},
        "spec": {"nets": nets},
    }


def network_set(ns: str, name: str, nets: list[str], **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": V3,
        "kind": "NetworkSet",
        "metadata": {"namespace": ns, "name": name, "labels": labels},
        "spec": {"nets": nets},
    }


NAMESPACES = {
    "app": {"team": "web", "kubernetes.io/metadata.name": "app"},
    "data": {"team": "db", "kubernetes.io/metadata.name": "data"},
}
ACCOUNTS = {("app", "frontend"): {"role": "public"}}


def calico_view(found: Sequence[Mapping[str, Any]]) -> view.View:
    return view.assemble([o for o in found if o.get("kind") != "Pod"], NAMESPACES, ACCOUNTS)


def party(calico: view.View, peer: Mapping[str, Any] | str) -> match.Party:
    if isinstance(peer, str):
        return match.Party(address=peer, labels=None)
    return match.Party(
        address=objects.status(peer).get("podIP"), labels=calico.labels(peer), pod=peer
    )


def verdict(
    found: Sequence[Mapping[str, Any]],
    src: Mapping[str, Any] | str,
    dst: Mapping[str, Any] | str,
    port: int,
    direction: model.Direction,
    protocol: str = "TCP",
) -> match.Verdict:
    return verdict_in(calico_view(found), src, dst, port, direction, protocol)


def verdict_in(
    calico: view.View,
    src: Mapping[str, Any] | str,
    dst: Mapping[str, Any] | str,
    port: int,
    direction: model.Direction,
    protocol: str = "TCP",
) -> match.Verdict:
    """Calico's own tier walk (`match.decide`): the reference the compiled form must agree with."""
    flow = match.Flow(
        source=party(calico, src), destination=party(calico, dst), port=port, protocol=protocol
    )
    return match.decide(calico, flow, direction)
