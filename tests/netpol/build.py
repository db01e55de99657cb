"""Tiny builders for the objects the netpol tests need (plain dicts, as the API returns)."""

from __future__ import annotations

from typing import Any

from paramedic.evidence import model


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(labels)},
    }


def pod(
    ns: str,
    name: str,
    labels: dict[str, str] | None = None,
    ip: str | None = None,
    node_ip: str = "192.168.0.1",
    ports: list[dict[str, Any]] | None = None,
    host_network: bool = False,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "x", "ports": ports or []}]}
    if host_network:
        spec["hostNetwork"] = True
    status: dict[str, Any] = {"hostIP": node_ip}
    status["podIP"] = node_ip if host_network else ip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
        "spec": spec,
        "status": status,
    }


def policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def service(
    ns: str, name: str, selector: dict[str, str], ports: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector, "ports": ports},
    }


def evidence(*objs: dict[str, Any]) -> model.Evidence:
    return model.Evidence.of(objs)


def admin_policy(
    name: str, priority: int | None, spec: dict[str, Any], kind: str = "AdminNetworkPolicy"
) -> dict[str, Any]:
    """An AdminNetworkPolicy (or BaselineAdminNetworkPolicy / ClusterNetworkPolicy)."""
    version = "v1alpha2" if kind == "ClusterNetworkPolicy" else "v1alpha1"
    body = dict(spec)
    if priority is not None:
        body["priority"] = priority
    return {
        "apiVersion": f"policy.networking.k8s.io/{version}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": body,
    }


def in_namespace(name: str) -> dict[str, Any]:
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}
