"""Resolve the user's SRC and DST (DESIGN.md §3) against the evidence into a `Scope`.

SRC: a workload name, a pod name, or a label selector, in a namespace.
DST: a Service name, NS/NAME, a cluster DNS name (name.ns[.svc[.cluster.local]]), or a host/IP
outside the cluster; each optionally with :PORT.
Resolution happens once; every check then works on the same Scope.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from paramedic import errors
from paramedic.evidence import model
from paramedic.kube import names, objects, pods, selectors, services

SOURCE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Pod")
"""What a SRC name may name, tried in this order."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """The incident pinned to objects: who talks, to what, on which port."""

    namespace: str
    source: str
    """How the source is shown: 'Deployment app/user-service'."""
    source_workload: Mapping[str, Any] | None
    source_pods: tuple[Mapping[str, Any], ...]
    target: str
    """How the target is shown: 'Service data/profile-db', or the external host."""
    target_namespace: str | None
    target_service: Mapping[str, Any] | None
    target_pods: tuple[Mapping[str, Any], ...]
    target_host: str
    """The name a client uses: 'profile-db.data.svc.cluster.local', or the external host/IP."""
    port: int | None
    """The port the client connects to (Service port, or the external port)."""
    port_name: str | None = None
    external: bool = False
    """True when the target is outside the cluster (no selector, ExternalName, or a host/IP)."""

    def source_template(self) -> Mapping[str, Any] | None:
        """What defines the source's containers: the workload, else the first pod."""
        if self.source_workload is not None:
            return self.source_workload
        return self.source_pods[0] if self.source_pods else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "port": self.port,
            "namespace": self.namespace,
        }


def resolve(
    evidence: model.Evidence, incident: model.Incident, *, default_port: int | None = None
) -> Scope:
    ns_given, kind, name = names.split_source(incident.source)
    namespace = ns_given or incident.namespace or _guess_namespace(evidence, name)
    workload, source_pods, source_label = _resolve_source(evidence, name, namespace, kind)
    target_text, port_text = names.split_port(incident.target)
    port: int | str | None = port_text if port_text is not None else incident.port
    return _resolve_target(
        evidence, target_text, port, namespace, workload, source_pods, source_label, default_port
    )


# --- source ----------------------------------------------------------------------------------


def _guess_namespace(evidence: model.Evidence, source: str) -> str:
    """The namespace holding the source when the user gave none and it is unambiguous."""
    if names.is_selector(source):
        sel = selectors.parse(source)
        spaces = {
            objects.namespace(p)
            for p in evidence.kind("Pod")
            if selectors.matches(sel, objects.labels(p))
        }
    else:
        spaces = {
            objects.namespace(o)
            for kind in (*pods.WORKLOAD_KINDS, "Pod")
            for o in evidence.kind(kind)
            if objects.name(o) == source
        }
    if len(spaces) == 1:
        return spaces.pop()
    if len(spaces) > 1:
        raise errors.IncidentError(
            f"source {source!r} exists in several namespaces ({', '.join(sorted(spaces))}); pass -n"
        )
    return "default"


def _resolve_source(
    evidence: model.Evidence, source: str, namespace: str, kind_given: str | None = None
) -> tuple[Mapping[str, Any] | None, tuple[Mapping[str, Any], ...], str]:
    all_pods = evidence.kind("Pod", namespace)
    if names.is_selector(source):
        sel = selectors.parse(source)
        chosen = tuple(p for p in all_pods if selectors.matches(sel, objects.labels(p)))
        if not chosen:
            _refuse_unseen(evidence, "source", source, ("Pod",), namespace)
            raise errors.IncidentError(
                f"source: no pod in namespace {namespace!r} matches {source!r}"
            )
        owner = pods.owner_workload(
            chosen[0], _workloads(evidence, namespace), evidence.kind("ReplicaSet", namespace)
        )
        return owner, chosen, f"pods {source} in {namespace}"
    for kind in SOURCE_KINDS[:-1]:  # the workloads, then the Pod
        if kind_given not in (None, kind):
            continue
        workload = evidence.get(kind, namespace, source)
        if workload is not None:
            found = pods.pods_of_workload(
                workload, all_pods, evidence.kind("ReplicaSet", namespace)
            )
            return workload, tuple(found), objects.ref(workload)
    pod = evidence.get("Pod", namespace, source) if kind_given in (None, "Pod") else None
    if pod is not None:
        owner = pods.owner_workload(
            pod, _workloads(evidence, namespace), evidence.kind("ReplicaSet", namespace)
        )
        return owner, (pod,), objects.ref(pod)
    searched = SOURCE_KINDS if kind_given is None else (kind_given,)
    _refuse_unseen(evidence, "source", source, searched, namespace)
    kinds = kind_given or "Deployment, StatefulSet, DaemonSet or Pod"
    hint = _source_hint(evidence, source, namespace, searched) or (
        " (forms: NAME, NS/NAME, deployment/NAME, pod/NAME, or a label selector app=NAME)"
    )
    raise errors.IncidentError(
        f"source: no {kinds} named {source!r} in namespace {namespace!r}{hint}"
    )


def _source_hint(
    evidence: model.Evidence, source: str, namespace: str, kinds: Sequence[str]
) -> str:
    """Where a source of that name is (`-n` was wrong), or the names it is close to (a typo):
    among the workloads, or the pods when only pods were searched ('' when neither)."""
    kinds = [k for k in kinds if k != "Pod"] or ["Pod"]
    elsewhere = sorted(
        (objects.namespace(o), kind)
        for kind in kinds
        for o in evidence.kind(kind)
        if objects.name(o) == source and objects.namespace(o) != namespace
    )
    if elsewhere:
        found = ", ".join(f"{kind} {ns}/{source}" for ns, kind in elsewhere[:3])
        verb = "exists" if len(elsewhere) == 1 else "exist"
        return f"; {found} {verb} (pass -n {elsewhere[0][0]})"
    return _close_to(source, (objects.name(o) for k in kinds for o in evidence.kind(k, namespace)))


def _close_to(name: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'user-service'?' for a name one typo away from others ('' if none)."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.75)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _workloads(evidence: model.Evidence, namespace: str) -> list[Mapping[str, Any]]:
    return [
        w
        for kind in ("Deployment", "StatefulSet", "DaemonSet", "Job")
        for w in evidence.kind(kind, namespace)
    ]


# --- target ----------------------------------------------------------------------------------


def _port_value(port: int | str | None) -> int | str | None:
    return None if port is None else services.port_number(port)


def _resolve_target(
    evidence: model.Evidence,
    target: str,
    port: int | str | None,
    namespace: str,
    workload: Mapping[str, Any] | None,
    source_pods: tuple[Mapping[str, Any], ...],
    source_label: str,
    default_port: int | None,
) -> Scope:
    port = _port_value(port)
    svc_ns, svc_name = names.service_name(target, namespace)
    service: Mapping[str, Any] | None = (
        evidence.get("Service", svc_ns, svc_name) if svc_name else None
    )
    only_pod: Mapping[str, Any] | None = None
    if service is None and names.is_ip(target):
        service = _service_with_cluster_ip(evidence, target)
        if service is None:
            # A pod IP: diagnose it as that pod behind its Service, so fixes select pods by
            # label (an ipBlock for a pod IP breaks on restart and never matches on Cilium).
            only_pod, service = _pod_with_ip(evidence, target, port)
        if service is not None:
            svc_ns, svc_name = objects.namespace(service), objects.name(service)
    common: dict[str, Any] = dict(
        namespace=namespace, source=source_label, source_workload=workload, source_pods=source_pods
    )
    if service is None:
        return Scope(
            **common,
            target=target,
            target_namespace=None,
            target_service=None,
            target_pods=(),
            target_host=target,
            port=_outside_port(evidence, target, (svc_ns, svc_name), port, default_port),
            external=True,
        )
    svc_port, selected = _behind_service(evidence, service, target, port, default_port, only_pod)
    return Scope(
        **common,
        target=objects.ref(service),
        target_namespace=svc_ns,
        target_service=service,
        target_pods=tuple(selected),
        target_host=f"{svc_name}.{svc_ns}.svc.{names.CLUSTER_DOMAIN}",
        port=svc_port["port"] if isinstance(svc_port.get("port"), int) else None,
        port_name=svc_port.get("name") or None,
        external=services.is_external(service),
    )


def _outside_port(
    evidence: model.Evidence,
    target: str,
    service_name: tuple[str, str | None],
    port: int | str | None,
    default_port: int | None,
) -> int | None:
    """The port of a target that no Service answers to, once it is sure to be a host outside
    the cluster; raises when it names a missing Service, a Service that could not be looked
    up, a cluster name that does not resolve, or is no host at all."""
    svc_ns, svc_name = service_name
    if svc_name and "/" in target:
        raise errors.IncidentError(_missing_service(evidence, svc_ns, svc_name))
    if svc_name and "." not in target and not names.is_ip(target):
        raise errors.IncidentError(_missing_service(evidence, svc_ns, svc_name))
    if svc_name and names.is_cluster_name(target, known=_namespace_known(evidence, svc_ns)):
        # 'profile-db.data' where namespace data exists: a missing Service, not an outside host.
        raise errors.IncidentError(_missing_service(evidence, svc_ns, svc_name))
    if svc_name and any(g.namespace == svc_ns for g in evidence.gaps_about("Service")):
        _refuse_unseen(evidence, "target", svc_name, ("Service",), svc_ns)  # asked, no answer
    _refuse_cluster_looking_names(evidence, target)
    if not names.is_ip(target) and not names.HOST_NAME.fullmatch(target.removesuffix(".")):
        raise errors.IncidentError(
            f"target {target!r} is not a Service, a DNS name or an IP address"
        )
    if isinstance(port, str) or (port is None and default_port is None):
        raise errors.IncidentError(f"target {target!r} is outside the cluster: give a numeric port")
    if port is not None and not 1 <= port <= 65535:
        raise errors.IncidentError(f"target {target!r}: port {port} is out of range (1-65535)")
    return port if port is not None else default_port


def _behind_service(
    evidence: model.Evidence,
    service: Mapping[str, Any],
    target: str,
    port: int | str | None,
    default_port: int | None,
    only_pod: Mapping[str, Any] | None,
) -> tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]:
    """The Service port the target names (or the default one) and the pods behind it that the
    target means: all it selects, the one pod a pod IP or pod DNS name names."""
    svc_port = services.find_port(service, port)
    if svc_port is None and port is None and default_port is not None:
        svc_port = services.find_port(service, default_port)
    if svc_port is None:
        raise errors.IncidentError(
            f"target {objects.ref(service)}: "
            f"no port {port if port is not None else '(unspecified)'}"
            f" (ports: {services.describe_ports(service)}); pass --port"
        )
    selected = services.selected_pods(service, evidence.kind("Pod"))
    if only_pod is not None:
        selected = [p for p in selected if objects.name(p) == objects.name(only_pod)]
    hostname = names.pod_hostname(target)
    if hostname is not None:
        selected = [p for p in selected if _hostname(p) == hostname]
        if not selected:
            raise errors.IncidentError(
                f"target {target!r}: no pod with hostname {hostname!r}"
                f" behind {objects.ref(service)}"
            )
    return svc_port, selected


def _hostname(pod: Mapping[str, Any]) -> str:
    return str(objects.spec(pod).get("hostname") or objects.name(pod)).lower()


def _refuse_cluster_looking_names(evidence: model.Evidence, target: str) -> None:
    """A name that only the cluster's DNS can answer, or a typo of one, is not an outside host:
    diagnosing it as one would blame a firewall for a wrong name."""
    parts = target.rstrip(".").lower().split(".")
    if names.is_ip(target) or len(parts) < 2:
        return
    if "svc" in parts or target.rstrip(".").lower().endswith(names.CLUSTER_DOMAIN):
        raise errors.IncidentError(
            f"target {target!r} is a cluster DNS name, but no such Service is in the evidence"
            " (forms: NAME.NAMESPACE, NAME.NAMESPACE.svc.cluster.local,"
            " POD.SERVICE.NAMESPACE.svc.cluster.local)"
        )
    if len(parts) == 2:
        elsewhere = sorted(
            objects.namespace(s) for s in evidence.kind("Service") if objects.name(s) == parts[0]
        )
        if elsewhere:
            raise errors.IncidentError(
                f"target {target!r}: no namespace {parts[1]!r} in the evidence;"
                f" Services named {parts[0]!r} exist in: {', '.join(elsewhere)}"
            )


def _namespace_known(evidence: model.Evidence, namespace: str) -> bool:
    return evidence.get("Namespace", None, namespace) is not None or any(
        objects.namespace(o) == namespace for o in evidence.objects
    )


def _pod_with_ip(
    evidence: model.Evidence, ip: str, port: int | str | None
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """(pod, a Service selecting it) for a pod IP, preferring a Service that has `port`."""
    for pod in evidence.kind("Pod"):
        if pods.ip(pod) != ip:
            continue
        backing = [
            s
            for s in evidence.kind("Service", objects.namespace(pod))
            if selectors.map_matches(objects.spec(s).get("selector"), objects.labels(pod))
        ]
        backing.sort(key=lambda s: services.find_port(s, port) is None)
        return (pod, backing[0]) if backing else (None, None)
    return None, None


def _service_with_cluster_ip(evidence: model.Evidence, ip: str) -> Mapping[str, Any] | None:
    """The Service whose ClusterIP a client connects to directly."""
    for svc in evidence.kind("Service"):
        spec = objects.spec(svc)
        cluster_ips = [spec.get("clusterIP"), *objects.as_list(spec.get("clusterIPs"))]
        if ip in cluster_ips and ip != "None":
            return svc
    return None


def _refuse_unseen(
    evidence: model.Evidence, role: str, name: str, kinds: Sequence[str], namespace: str
) -> None:
    """Raise when the lookup that found nothing was incomplete (a gap hides one of `kinds` in
    `namespace`: forbidden, timed out, refused): "no such object" would be a claim made from
    evidence that never came, and the user would chase a typo that is not there."""
    for kind in kinds:
        for gap in evidence.gaps_about(kind, [namespace]):
            raise errors.IncidentError(
                f"{role}: cannot tell whether {name!r} exists in namespace {namespace!r}:"
                f" {gap.reason}"
            )


def _missing_service(evidence: model.Evidence, namespace: str, name: str) -> str:
    """The error for a Service that is not there (raised instead: its lookup was incomplete)."""
    _refuse_unseen(evidence, "target", name, ("Service",), namespace)
    elsewhere = sorted(
        objects.namespace(s) for s in evidence.kind("Service") if objects.name(s) == name
    )
    hint = f"; Services named {name!r} exist in: {', '.join(elsewhere)}" if elsewhere else ""
    hint = hint or _close_to(name, (objects.name(s) for s in evidence.kind("Service", namespace)))
    return f"target: no Service {name!r} in namespace {namespace!r}{hint}"
