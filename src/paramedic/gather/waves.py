"""The waves of read requests that gather one incident's objects, logs and metrics.

Each wave runs in parallel (fetch.Fetcher) and needs what the previous one found:
  1. what the user named: the source (workload by name, pod, or a selector's pods), the target
     Service with its Endpoints/EndpointSlices, the source namespace's Services (unless a need
     lists them), CoreDNS (pods, Service, endpoints, ConfigMap, Deployment), /apis discovery
     when a check needs metrics or a `discover` API, and every list the checks' needs ask for
     beyond that (plan.listings: NetworkPolicies and Events of both namespaces, Namespaces,
     Nodes, Services, workloads and HPAs cluster-wide, ...);
  2. what those imply: the workload's pods and ReplicaSets, the owners of a named pod, the
     target Service's pods, and the `discover` lists (CRD-backed policy APIs) that discovery in
     wave 1 shows served - an API the cluster does not serve is not asked for;
  3. what the pods reference: their owners on the target side, Secrets (digested on arrival:
     no value ever enters Evidence) and ConfigMaps (unless wave 1 listed their namespace's),
     bounded log tails of the sides whose logs a check needs, PodMetrics when a check needs
     metrics;
  4. the Deployments owning the ReplicaSets found so far.
Paths and selectors come from plan; failures are gaps recorded by the Fetcher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from paramedic import timeouts
from paramedic.evidence import model, needs, redact
from paramedic.gather import container_logs, fetch, kubeapi, plan, reads, table
from paramedic.kube import names, objects, resolve, selectors

Handler = Callable[[kubeapi.Reply | None], None]


class Gathering:
    """The objects, logs and metrics of one run, filled wave by wave."""

    def __init__(
        self,
        fetcher: fetch.Fetcher,
        incident: model.Incident,
        limits: timeouts.Timeouts,
        wanted: Iterable[needs.Need],
    ) -> None:
        """`wanted`: the needs of the checks that will read this evidence (plan.listings)."""
        self.fetcher = fetcher
        self.needs = tuple(wanted)
        self.table = table.resources(self.needs)
        self.incident = incident
        self.namespace = str(incident.namespace)
        self.limits = limits
        self.target_info = plan.target(incident.target, self.namespace)
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.log_reader = container_logs.Reader(fetcher, limits)
        self.metrics: list[dict[str, Any]] = []
        self.workload: dict[str, Any] | None = None
        self.source_pods: list[dict[str, Any]] = []
        self.service: dict[str, Any] | None = None
        self.target_pods: list[dict[str, Any]] = []
        self.dns_pods: list[dict[str, Any]] = []
        self.metrics_served = False
        self.served: frozenset[str] = frozenset()
        """group/versions the discovery request listed (`discover` needs are fetched for these)."""
        self.namespace_services: list[dict[str, Any]] = []
        self.listed: list[tuple[str, str | None]] = []  # what wave 1 lists whole (plan.listings)

    # --- the four waves --------------------------------------------------------------------

    def run(self) -> Gathering:
        self._wave_one()
        self._wave_two()
        self._keep_source_services()
        self._wave_three()
        self.log_reader.newest()
        self._wave_four()
        return self

    def _wave_one(self) -> None:
        ns, src, tgt = self.namespace, self.incident.source, self.target_info
        listed = self.listed = plan.listings(self.needs, ns, tgt.service_namespace)
        reqs: list[tuple[fetch.Request, Handler]] = [
            (reads.listing(key, space, resources=self.table), self._keep_list(key))
            for key, space in listed
        ]
        if any(n.kind == needs.METRICS for n in self.needs) or plan.discover_apis(self.needs):
            reqs.append(
                (fetch.Request(what="read API discovery (/apis)", path="/apis"), self._discovery)
            )
        if names.is_selector(src):
            reqs.append((reads.listing("Pod", ns, selector=src), self._source_pods_listed))
        else:
            _, given, name = names.split_source(src)  # deploy/x reads only Deployment x
            for kind in resolve.SOURCE_KINDS:
                if given in (None, kind):
                    reqs.append((reads.get(kind, ns, name), self._source_candidate(kind)))
        if tgt.is_service:
            tns, tname = str(tgt.service_namespace), str(tgt.service_name)
            reqs += [
                (reads.get("Service", tns, tname), self._target_service),
                (reads.get("Endpoints", tns, tname), self._keep_one),
                (
                    reads.listing(
                        "EndpointSlice", tns, selector=f"kubernetes.io/service-name={tname}"
                    ),
                    self._keep_list("EndpointSlice"),
                ),
            ]
        dns = plan.DNS_NAMESPACE
        reqs += [
            (reads.listing("Pod", dns, selector=plan.DNS_SELECTOR), self._dns_pods),
            (reads.get("Service", dns, plan.DNS_SERVICE), self._keep_one),
            (reads.get("Endpoints", dns, plan.DNS_SERVICE), self._keep_one),
            (
                reads.listing(
                    "EndpointSlice", dns, selector=f"kubernetes.io/service-name={plan.DNS_SERVICE}"
                ),
                self._keep_list("EndpointSlice"),
            ),
            (reads.get("ConfigMap", dns, plan.DNS_CONFIGMAP), self._keep_one),
            (reads.get("Deployment", dns, plan.DNS_DEPLOYMENT), self._keep_one),
        ]
        if not {("Service", None), ("Service", ns)} & set(listed):  # else kept whole already
            reqs.append((reads.listing("Service", ns), self._source_namespace_services))
        self._run(reqs)

    def _wave_two(self) -> None:
        reqs: list[tuple[fetch.Request, Handler]] = [
            (reads.listing(key, space, resources=self.table), self._keep_list(key))
            for key, space in plan.listings(
                self.needs, self.namespace, self.target_info.service_namespace, self.served
            )
        ]
        if self.workload is not None:
            wl, sel = (
                self.workload,
                plan.label_selector(objects.spec(self.workload).get("selector")),
            )
            if sel is not None:
                reqs.append(
                    (reads.listing("Pod", self.namespace, selector=sel), self._source_pods_listed)
                )
                if wl.get("kind") == "Deployment":
                    reqs.append(
                        (
                            reads.listing("ReplicaSet", self.namespace, selector=sel),
                            self._keep_list("ReplicaSet"),
                        )
                    )
        else:
            for kind, ns, name in sorted(plan.owner_refs(self.source_pods)):
                reqs.append((reads.get(kind, ns, name), self._source_owner))
        wants_namespaces = any(n.kind == "Namespace" for n in self.needs)
        if wants_namespaces and not any(kind == "Namespace" for kind, _, _ in self.objects):
            # `list namespaces` was refused (namespace-scoped RBAC): the namespaces involved
            # may still be readable one by one, and their labels are what policies select on.
            spaces = {self.namespace, plan.DNS_NAMESPACE, self.target_info.service_namespace or ""}
            reqs += [
                (reads.get("Namespace", "", name), self._keep_one) for name in sorted(spaces - {""})
            ]
        if self.service is not None:
            sel = plan.map_selector(objects.spec(self.service).get("selector"))
            if sel is not None:
                reqs.append(
                    (
                        reads.listing("Pod", objects.namespace(self.service), selector=sel),
                        self._target_pods_listed,
                    )
                )
        self._run(reqs)

    def _wave_three(self) -> None:
        reqs: list[tuple[fetch.Request, Handler]] = []
        for kind, ns, name in sorted(plan.owner_refs(self.target_pods)):
            if (kind, ns, name) not in self.objects:
                reqs.append((reads.get(kind, ns, name), self._keep_one))
        spec_holders = [*self.source_pods, *self.target_pods]
        if self.workload is not None:
            spec_holders.append(self.workload)
        secrets, config_maps = plan.referenced(spec_holders)
        reqs += [(reads.get("Secret", ns, name), self._keep_one) for ns, name in sorted(secrets)]
        reqs += [
            (reads.get("ConfigMap", ns, name), self._keep_one)
            for ns, name in sorted(config_maps)
            if not {("ConfigMap", ns), ("ConfigMap", None)} & set(self.listed)  # else listed
        ]
        sides = {
            needs.Scope.SOURCE: self.source_pods,
            needs.Scope.TARGET: self.target_pods,
            needs.Scope.DNS: self.dns_pods,
        }
        reqs += self.log_reader.first(
            group for side, group in sides.items() if plan.wants(self.needs, needs.LOGS, side)
        )
        if self.metrics_served:
            involved = [*self.source_pods, *self.target_pods, *self.dns_pods]
            for ns in sorted({objects.namespace(p) for p in involved}):
                reqs.append((reads.listing("PodMetrics", ns), self._keep_metrics))
        self._run(reqs)

    def _wave_four(self) -> None:
        """The Deployments that own the ReplicaSets found so far (source or target side)."""
        rs = [o for o in self.objects.values() if o.get("kind") == "ReplicaSet"]
        reqs: list[tuple[fetch.Request, Handler]] = [
            (reads.get(kind, ns, name), self._keep_one)
            for kind, ns, name in sorted(plan.owner_refs(rs))
            if kind == "Deployment" and (kind, ns, name) not in self.objects
        ]
        self._run(reqs)

    # --- handlers ---------------------------------------------------------------------------

    def _run(self, reqs: list[tuple[fetch.Request, Handler]]) -> None:
        replies = self.fetcher.wave([r for r, _ in reqs])
        for (_, handle), reply in zip(reqs, replies, strict=True):
            handle(reply)

    def _keep(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj = redact.entering(obj)  # no Secret value ever enters Evidence
        self.objects[table.object_key(obj)] = obj
        return obj

    def _keep_one(self, reply: kubeapi.Reply | None) -> None:
        found = fetch.obj(reply)
        if found is not None:
            self._keep(found)

    def _keep_list(self, key: str) -> Callable[[kubeapi.Reply | None], None]:
        def handle(reply: kubeapi.Reply | None) -> None:
            version = table.api_version(key, self.table)
            for item in fetch.items(reply, kind=table.kind_of(key), api_version=version):
                self._keep(item)

        return handle

    def _discovery(self, reply: kubeapi.Reply | None) -> None:
        self.served = plan.served_versions(reply.data if reply is not None else None)
        self.metrics_served = any(v.startswith("metrics.k8s.io/") for v in self.served)
        if reply is None:  # unknown whether the `discover` APIs are served: none is ruled out
            self.fetcher.gaps += [
                model.Gap(n.key, "", f"cannot tell whether {n.api} is served: discovery failed")
                for n in self.needs
                if n.is_object and n.discover and not n.superseded_by
            ]
        wanted = any(n.kind == needs.METRICS for n in self.needs)
        if reply is not None and wanted and not self.metrics_served:
            self.fetcher.gaps.append(
                model.Gap(
                    needs.METRICS,
                    "",
                    "no metrics: the metrics.k8s.io API is not served (metrics-server missing)",
                )
            )

    def _source_candidate(self, kind: str) -> Callable[[kubeapi.Reply | None], None]:
        def handle(reply: kubeapi.Reply | None) -> None:
            found = fetch.obj(reply)
            if found is None:
                return
            self._keep(found)
            current = self.workload or (self.source_pods[0] if self.source_pods else None)
            rank = resolve.SOURCE_KINDS.index
            if current is not None and rank(str(current.get("kind"))) <= rank(kind):
                return
            if kind == "Pod":
                self.source_pods = [found]
            else:
                self.workload, self.source_pods = found, []

        return handle

    def _source_pods_listed(self, reply: kubeapi.Reply | None) -> None:
        self.source_pods = [self._keep(p) for p in fetch.items(reply, kind="Pod", api_version="v1")]

    def _source_owner(self, reply: kubeapi.Reply | None) -> None:
        found = fetch.obj(reply)
        if found is not None:
            self._keep(found)
            if found.get("kind") in ("StatefulSet", "DaemonSet", "Job"):
                self.workload = self.workload or found

    def _source_namespace_services(self, reply: kubeapi.Reply | None) -> None:
        self.namespace_services = fetch.items(reply, kind="Service", api_version="v1")

    def _keep_source_services(self) -> None:
        """The Services that select the source's pods (readiness: does the source drop out?)."""
        for service in self.namespace_services:
            selector = objects.spec(service).get("selector")
            if any(selectors.map_matches(selector, objects.labels(p)) for p in self.source_pods):
                self._keep(service)

    def _target_service(self, reply: kubeapi.Reply | None) -> None:
        found = fetch.obj(reply)
        if found is not None:
            self.service = self._keep(found)

    def _target_pods_listed(self, reply: kubeapi.Reply | None) -> None:
        self.target_pods = [self._keep(p) for p in fetch.items(reply, kind="Pod", api_version="v1")]

    def _dns_pods(self, reply: kubeapi.Reply | None) -> None:
        self.dns_pods = [self._keep(p) for p in fetch.items(reply, kind="Pod", api_version="v1")]

    def _keep_metrics(self, reply: kubeapi.Reply | None) -> None:
        involved = [*self.source_pods, *self.target_pods, *self.dns_pods]
        wanted = {(objects.namespace(p), objects.name(p)) for p in involved}
        found = fetch.items(reply, kind="PodMetrics", api_version=plan.METRICS_VERSION)
        self.metrics += [m for m in found if (objects.namespace(m), objects.name(m)) in wanted]
