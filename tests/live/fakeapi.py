"""A local Kubernetes API server for tests: genuine API JSON built from an evidence bundle.

It answers what the live gatherer asks, the way kube-apiserver does: discovery (/api, /apis,
/apis/metrics.k8s.io/v1beta1), namespaced and cluster-wide lists (kind XList, apiVersion,
metadata.resourceVersion, items without kind/apiVersion), gets, labelSelector and the
metadata.name fieldSelector, pod logs (?container=&tailLines=&sinceSeconds=&limitBytes=&previous=:
the time window is taken from each line's leading timestamp against `log_now`, and limitBytes
returns the first bytes of that window, as the kubelet does), 403 as a real Status
object, 404, a slow path (to prove the deadline), and pod create/delete for --probe-pod.
It runs stdlib http.server in a thread on 127.0.0.1 with a random port; the real `kubernetes`
client talks to it through a generated kubeconfig file.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime
import hashlib
import json
import re
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from paramedic.evidence import layout
from paramedic.kube import datapath, selectors
from paramedic.netpol.layers import apis

CALICO_VERSIONS = (apis.CALICO_V3, apis.CALICO_CRD)
"""Calico's kinds are served in both: the API server's projectcalico.org/v3 and the
crd.projectcalico.org/v1 CRDs that store the same objects (an object of either group is served
by both, under the group asked for; `served` takes one away, as on a cluster without it)."""
# (group/version, plural) -> kind; "" group = core
RESOURCES: dict[tuple[str, str], str] = {
    ("v1", "namespaces"): "Namespace",
    ("v1", "nodes"): "Node",
    ("v1", "pods"): "Pod",
    ("v1", "services"): "Service",
    ("v1", "endpoints"): "Endpoints",
    ("v1", "configmaps"): "ConfigMap",
    ("v1", "secrets"): "Secret",
    ("v1", "serviceaccounts"): "ServiceAccount",
    ("v1", "events"): "Event",
    ("apps/v1", "deployments"): "Deployment",
    ("apps/v1", "statefulsets"): "StatefulSet",
    ("apps/v1", "daemonsets"): "DaemonSet",
    ("apps/v1", "replicasets"): "ReplicaSet",
    ("batch/v1", "jobs"): "Job",
    ("batch/v1", "cronjobs"): "CronJob",
    ("networking.k8s.io/v1", "networkpolicies"): "NetworkPolicy",
    ("discovery.k8s.io/v1", "endpointslices"): "EndpointSlice",
    ("metrics.k8s.io/v1beta1", "pods"): "PodMetrics",
    ("autoscaling/v2", "horizontalpodautoscalers"): "HorizontalPodAutoscaler",
    ("policy/v1", "poddisruptionbudgets"): "PodDisruptionBudget",
    ("policy.networking.k8s.io/v1alpha1", "adminnetworkpolicies"): "AdminNetworkPolicy",
    ("policy.networking.k8s.io/v1alpha1", "baselineadminnetworkpolicies"): (
        "BaselineAdminNetworkPolicy"
    ),
    ("policy.networking.k8s.io/v1alpha2", "clusternetworkpolicies"): "ClusterNetworkPolicy",
    ("cilium.io/v2", "ciliumnetworkpolicies"): "CiliumNetworkPolicy",
    ("cilium.io/v2", "ciliumclusterwidenetworkpolicies"): "CiliumClusterwideNetworkPolicy",
    ("security.istio.io/v1", "authorizationpolicies"): "AuthorizationPolicy",
    ("security.istio.io/v1", "peerauthentications"): "PeerAuthentication",
    ("k8s.ovn.org/v1", "egressfirewalls"): "EgressFirewall",
    ("vpcresources.k8s.aws/v1beta1", "securitygrouppolicies"): "SecurityGroupPolicy",
    ("crd.antrea.io/v1beta1", "networkpolicies"): "NetworkPolicy",
    ("crd.antrea.io/v1beta1", "clusternetworkpolicies"): "ClusterNetworkPolicy",
    ("networking.gke.io/v1alpha3", "fqdnnetworkpolicies"): "FQDNNetworkPolicy",
    **{(gv, plural): kind for gv in CALICO_VERSIONS for kind, plural, _ in apis.CALICO_KINDS},
    **{
        (gv, kind.lower() + "s"): kind
        for gv in CALICO_VERSIONS
        for kind in datapath.CALICO_KINDS  # the data path between nodes (firewall check)
    },
    **{(datapath.OPERATOR, kind.lower() + "s"): kind for kind in datapath.OPERATOR_KINDS},
}
CLUSTER_SCOPED = {
    *datapath.CALICO_KINDS,
    *datapath.OPERATOR_KINDS,
    "Namespace",
    "Node",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
}
_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+/[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>log))?$"
)


def _serves(gv: str, obj: dict[str, Any]) -> bool:
    """Whether `obj` is answered at group/version `gv` (its kind already matches): a kind of
    one name in two groups (Calico's NetworkPolicy, networking.k8s.io's) is served only by its
    own; an object without apiVersion by every group that serves its kind."""
    group, own = gv.rpartition("/")[0], str(obj.get("apiVersion") or gv).rpartition("/")[0]
    calico = {v.rpartition("/")[0] for v in CALICO_VERSIONS}
    return own == group or (own in calico and group in calico)


class _Logs(dict[tuple[str, str, str], tuple[str, ...]]):
    """The served logs, remembering their newest line's time until a test changes one (reading
    every line of a 1,000-pod cluster's logs for each sinceSeconds request took seconds)."""

    newest: datetime.datetime | None = None

    def __setitem__(self, key: tuple[str, str, str], value: tuple[str, ...]) -> None:
        self.newest = None
        super().__setitem__(key, value)

    def __delitem__(self, key: tuple[str, str, str]) -> None:
        self.newest = None
        super().__delitem__(key)


class FakeApiServer:
    """Objects, logs and metrics of a bundle behind a Kubernetes-shaped HTTP API."""

    def __init__(
        self,
        objects: Iterable[dict[str, Any]],
        *,
        logs: dict[tuple[str, str, str], tuple[str, ...]] | None = None,
        metrics: Iterable[dict[str, Any]] = (),
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """`tls`: (certificate, key) files to serve HTTPS, as a real API server does."""
        self.objects = [copy.deepcopy(o) for o in objects]
        self.logs = _Logs(logs or {})
        self.metrics = [copy.deepcopy(m) for m in metrics]
        self.forbidden: set[tuple[str, str, str | None]] = set()
        """(verb, plural, namespace or None for any) answered with 403."""
        self.user = "tester"
        """Who a SelfSubjectReview says the caller is."""
        self.reviews: list[dict[str, str]] = []
        """The resourceAttributes of every SelfSubjectAccessReview asked."""
        self.forbid_all = False
        """Every request for objects or logs answered with 403 (a user no role is bound to);
        discovery still answers, as it does for any authenticated user."""
        self.slow: dict[str, float] = {}
        """path prefix -> seconds to wait before answering."""
        self.drip: dict[str, float] = {}
        """path prefix -> seconds between the bytes of its answer (a trickling body)."""
        self.ignore_limit_bytes = False
        """Answer whole logs whatever limitBytes says (a proxy or server that ignores it)."""
        self.log_now: datetime.datetime | None = None
        """'Now' for sinceSeconds (default: one second after the newest line of any log)."""
        self.served: set[str] | None = None
        """group/versions discovery lists and the server answers (None: every one it knows);
        the others are 404, as on a cluster without that CRD."""
        self.broken: set[str] = set()
        """path prefixes answered with a 500 Status (an overloaded or failing API server)."""
        self.raw: dict[str, str] = {}
        """path -> the body answered with 200 instead (garbage, or JSON no real server sends)."""
        self.probe_status: dict[str, Any] = {"phase": "Succeeded"}
        """The status a created pod reports (e.g. waiting in ErrImagePull)."""
        self.probe_log = ""
        """What a created pod's log says (the probe pod's script output)."""
        self.probe_logs: Callable[[dict[str, Any]], str] | None = None
        """When set: what each created pod's log says, from the pod as created (its nodeName,
        hostNetwork), e.g. a pod that times out where its node connects."""
        self.requests: list[tuple[str, str]] = []
        self.created: list[dict[str, Any]] = []
        self.fail_creating: set[str] = set()
        """Names of NetworkPolicies whose real create (not the dry run) fails with a 500, as
        an API server can between the two."""
        self.admit: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        """A mutating admission webhook's stand-in: what a created NetworkPolicy is stored as."""
        self.tokens: set[str] = set()
        """Authorization headers seen (bearer tokens, e.g. from an exec credential plugin)."""
        self.bearer: str | None = None
        """When set, a request without `Authorization: Bearer <it>` is answered 401, as a real
        API server answers a request whose credentials it does not accept."""
        self.forwards: dict[tuple[str, str], tuple[str, int]] = {}
        """(namespace, pod) -> the address a port-forward to that pod really reaches."""
        self.deleted: list[str] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def __enter__(self) -> FakeApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._httpd.shutdown()
        self._httpd.server_close()

    def release(self) -> None:
        """Answer slow and trickling requests at once from now on (what the test needed them
        to hold is seen)."""
        self._release.set()

    def kubeconfig(self, path: Path, *, namespace: str = "default", context: str = "fake") -> Path:
        """A kubeconfig file pointing at this server with a bearer token."""
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": context,
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "test-token"}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": "fake", "user": "tester", "namespace": namespace},
                },
            ],
        }
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        return path

    # --- answering ------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._answer(self, "GET")

            def do_POST(self) -> None:
                server._answer(self, "POST")

            def do_DELETE(self) -> None:
                server._answer(self, "DELETE")

        return Handler

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, handler.path))
            self.tokens.add(str(handler.headers.get("Authorization") or ""))
        if (
            url.path.endswith("/portforward")
            and handler.headers.get("Upgrade", "").lower() == "websocket"
        ):
            self._portforward(handler, url.path, query)
            return
        for prefix, seconds in self.slow.items():
            if url.path.startswith(prefix):
                self._release.wait(seconds)
        if self.bearer is not None and handler.headers.get("Authorization") != (
            f"Bearer {self.bearer}"
        ):
            status, payload = 401, _status(401, "Unauthorized", "Unauthorized")
        elif url.path in self.raw:
            status, payload = 200, self.raw[url.path]
        elif any(url.path.startswith(prefix) for prefix in self.broken):
            status, payload = 500, _status(500, "InternalError", "etcdserver: request timed out")
        else:
            status, payload = self._route(method, url.path, query, body)
        if isinstance(payload, str):
            data, ctype = payload.encode(), "text/plain"
        else:
            data, ctype = json.dumps(payload).encode(), "application/json"
        drip = next((s for p, s in self.drip.items() if url.path.startswith(p)), None)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if drip is None:
                handler.wfile.write(data)
            for i in range(len(data) if drip is not None else 0):
                handler.wfile.write(data[i : i + 1])
                handler.wfile.flush()
                if self._release.wait(drip):
                    return
        except OSError:
            pass  # the client gave up (deadline): fine

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        if path == "/api":
            return 200, {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [],
            }
        if path == "/apis":
            return 200, self._groups()
        if path == "/apis/metrics.k8s.io/v1beta1":
            if not self.metrics:
                return 404, _status(
                    404, "NotFound", "the server could not find the requested resource"
                )
            return 200, {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": "metrics.k8s.io/v1beta1",
                "resources": [
                    {
                        "name": "pods",
                        "namespaced": True,
                        "kind": "PodMetrics",
                        "verbs": ["get", "list"],
                    },
                    {
                        "name": "nodes",
                        "namespaced": False,
                        "kind": "NodeMetrics",
                        "verbs": ["get", "list"],
                    },
                ],
            }
        if method == "POST" and path in (ACCESS_REVIEWS, WHO_AM_I):
            return self._review(path, json.loads(body or b"{}"))
        m = _PATH.match(path)
        if not m:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        gv = m["core"] or m["group"]
        plural, ns, name, sub = m["plural"], m["ns"], m["name"], m["sub"]
        kind = RESOURCES.get((gv, plural))
        unserved = self.served is not None and "/" in gv and gv not in self.served
        if kind is None or unserved or (gv == "metrics.k8s.io/v1beta1" and not self.metrics):
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        verb = {"GET": "get" if name else "list", "POST": "create", "DELETE": "delete"}[method]
        if self.forbid_all or {(verb, plural, ns), (verb, plural, None)} & self.forbidden:
            group = gv.rpartition("/")[0] if "/" in gv else ""
            where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
            message = (
                f'{plural}{"." + group if group else ""} is forbidden: User "tester" cannot {verb}'
                f' resource "{plural}" in API group "{group}"{where}'
            )
            return 403, _status(403, "Forbidden", message, details={"kind": plural})
        if method == "POST" and kind == "Pod" and ns:
            return self._create_pod(ns, json.loads(body or b"{}"))
        if method == "POST" and kind == "NetworkPolicy" and ns:
            return self._create_policy(ns, json.loads(body or b"{}"), query)
        if method == "DELETE" and kind == "NetworkPolicy" and ns and name:
            return self._delete_policy(ns, name, json.loads(body or b"{}"))
        if method == "DELETE" and kind == "Pod" and ns and name:
            return self._delete_pod(ns, name)
        if sub == "log":
            return self._log(ns or "", name or "", query)
        items = (
            self.metrics
            if kind == "PodMetrics"
            else [o for o in self.objects if o.get("kind") == kind and _serves(gv, o)]
        )
        if ns:
            items = [o for o in items if (o.get("metadata") or {}).get("namespace") == ns]
        if name:
            for o in items:
                if (o.get("metadata") or {}).get("name") == name:
                    return 200, {
                        "apiVersion": gv,
                        "kind": kind,
                        **{k: v for k, v in o.items() if k not in ("apiVersion", "kind")},
                    }
            return 404, _status(
                404,
                "NotFound",
                f'{plural} "{name}" not found',
                details={"name": name, "kind": plural},
            )
        if "labelSelector" in query:
            sel = selectors.parse(query["labelSelector"])
            items = [
                o
                for o in items
                if selectors.matches(
                    sel,
                    {
                        str(k): str(v)
                        for k, v in ((o.get("metadata") or {}).get("labels") or {}).items()
                    },
                )
            ]
        if "fieldSelector" in query:
            for term in query["fieldSelector"].split(","):
                field, _, value = term.partition("=")
                key = field.removeprefix("metadata.")
                items = [o for o in items if (o.get("metadata") or {}).get(key) == value]
        return 200, {
            "kind": f"{kind}List",
            "apiVersion": gv,
            "metadata": {"resourceVersion": "123456"},
            "items": [
                {k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items
            ],
        }

    def _portforward(
        self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> None:
        """pods/<pod>/portforward as the API server speaks it: a websocket with subprotocol
        v4.channel.k8s.io, channel 0 data and 1 errors, each opened by a port-number frame."""
        parts = path.split("/")  # /api/v1/namespaces/<ns>/pods/<pod>/portforward
        ns, pod, port = parts[4], parts[6], int(query.get("ports", "0"))
        handler.close_connection = True
        if ("create", "pods/portforward", ns) in self.forbidden or (ns, pod) not in self.forwards:
            code = 403 if (ns, pod) in self.forwards else 404
            data = json.dumps(
                _status(code, "Forbidden" if code == 403 else "NotFound", "no")
            ).encode()
            handler.send_response(code)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        key = handler.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        )
        handler.send_response(101)
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept.decode())
        handler.send_header("Sec-WebSocket-Protocol", "v4.channel.k8s.io")
        handler.end_headers()
        sock = handler.connection
        port_bytes = struct.pack("<H", port)
        sock.sendall(_frame(b"\x00" + port_bytes) + _frame(b"\x01" + port_bytes))
        backend = socket.create_connection(self.forwards[(ns, pod)], timeout=10)

        def backend_to_client() -> None:
            with contextlib.suppress(OSError):
                while data := backend.recv(65536):
                    sock.sendall(_frame(b"\x00" + data))
            with contextlib.suppress(OSError):
                sock.sendall(_frame(b"", opcode=8))

        pump = threading.Thread(target=backend_to_client, daemon=True)
        pump.start()
        try:
            while (frame := _read_frame(handler.rfile)) is not None:
                opcode, payload = frame
                if opcode == 8:
                    break
                if opcode == 2 and payload[:1] == b"\x00":
                    backend.sendall(payload[1:])
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                backend.shutdown(socket.SHUT_RDWR)
            backend.close()
            pump.join(timeout=2)

    def _groups(self) -> dict[str, Any]:
        versions = sorted({gv for gv, _ in RESOURCES if "/" in gv})
        if not self.metrics:
            versions.remove("metrics.k8s.io/v1beta1")
        if self.served is not None:
            versions = [v for v in versions if v in self.served]
        groups = []
        for gv in versions:
            group, version = gv.split("/")
            entry = {"groupVersion": gv, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _review(self, path: str, doc: dict[str, Any]) -> tuple[int, Any]:
        """A SelfSubjectReview (who: `user`) or SelfSubjectAccessReview, which this server's
        `forbidden` decides as it decides the requests themselves (cluster-wide is refused
        when any namespace is)."""
        if path == WHO_AM_I:
            info = {"username": self.user, "groups": ["system:authenticated"]}
            return 201, {**doc, "status": {"userInfo": info}}
        asked = (doc.get("spec") or {}).get("resourceAttributes") or {}
        verb, ns = asked.get("verb", ""), asked.get("namespace", "")
        plural = asked.get("resource", "") + (
            f"/{asked['subresource']}" if asked.get("subresource") else ""
        )
        refused = self.forbid_all or any(
            (v, p) == (verb, plural) and (n is None or not ns or n == ns)
            for v, p, n in self.forbidden
        )
        status = {"allowed": not refused, "reason": "" if refused else "RBAC: allowed"}
        self.reviews.append(asked)
        return 201, {**doc, "status": status}

    def _log(self, ns: str, pod: str, query: dict[str, str]) -> tuple[int, Any]:
        container = query.get("container", "")
        made = [c for c in self.created if c.get("metadata", {}).get("name") == pod]
        if made:
            return 200, self.probe_logs(made[0]) if self.probe_logs else self.probe_log
        key = (ns, pod, layout.log_container(container, previous=query.get("previous") == "true"))
        if key not in self.logs:
            if not any(
                o.get("kind") == "Pod" and o["metadata"].get("name") == pod for o in self.objects
            ):
                return 404, _status(404, "NotFound", f'pods "{pod}" not found')
            if query.get("previous") == "true":
                return 400, _status(
                    400, "BadRequest", f'previous terminated container "{container}" not found'
                )
            return 200, ""
        lines = list(self.logs[key])
        since = int(query.get("sinceSeconds", "0") or 0)
        if since:
            start = (self.log_now or self._newest_log_time()) - datetime.timedelta(seconds=since)
            times = _line_times(lines)
            kept = zip(lines, times, strict=True)
            lines = [line for line, at in kept if at is None or at >= start]
        tail = int(query.get("tailLines", "0") or 0)
        if tail:
            lines = lines[-tail:]
        text = "".join(f"{line}\n" for line in lines)
        limit = int(query.get("limitBytes", "0") or 0)
        if limit and not self.ignore_limit_bytes:
            text = text.encode()[:limit].decode(errors="ignore")
        return 200, text

    def _newest_log_time(self) -> datetime.datetime:
        if self.logs.newest is None:
            times = [t for lines in self.logs.values() for t in _line_times(list(lines)) if t]
            self.logs.newest = max(times, default=None) or datetime.datetime.now(datetime.UTC)
        return self.logs.newest + datetime.timedelta(seconds=1)

    def _create_pod(self, ns: str, pod: dict[str, Any]) -> tuple[int, Any]:
        refused = self._pod_security(ns, pod)
        if refused is not None:
            return 403, refused
        pod = copy.deepcopy(pod)
        pod.setdefault("metadata", {})["namespace"] = ns
        pod["metadata"]["uid"] = "0000-probe"
        pod["status"] = copy.deepcopy(self.probe_status)
        with self._lock:
            self.created.append(pod)
            self.objects.append(pod)
        return 201, pod

    def _create_policy(
        self, ns: str, policy: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        """A NetworkPolicy created as the API server does: 409 for a taken name, 422 for one
        without a spec, nothing stored for `dryRun=All`; a uid and the field manager kept."""
        meta = policy.get("metadata") or {}
        name = str(meta.get("name") or "")
        taken = any(
            o.get("kind") == "NetworkPolicy"
            and o["metadata"].get("namespace") == ns
            and o["metadata"].get("name") == name
            for o in self.objects
        )
        if taken:
            message = f'networkpolicies.networking.k8s.io "{name}" already exists'
            return 409, _status(409, "AlreadyExists", message)
        if not isinstance(policy.get("spec"), dict) or not name:
            return 422, _status(422, "Invalid", "NetworkPolicy is invalid: spec: Required value")
        if name in self.fail_creating and query.get("dryRun") != "All":
            return 500, _status(500, "InternalError", "etcdserver: request timed out")
        made = copy.deepcopy(policy) if self.admit is None else self.admit(copy.deepcopy(policy))
        made["metadata"] = {**meta, "namespace": ns, "uid": f"uid-np-{len(self.created)}"}
        made["metadata"]["managedFields"] = [{"manager": query.get("fieldManager", "")}]
        if query.get("dryRun") != "All":
            with self._lock:
                self.created.append(made)
                self.objects.append(made)
        return 201, made

    def _delete_policy(self, ns: str, name: str, options: dict[str, Any]) -> tuple[int, Any]:
        """Delete a NetworkPolicy, honouring a uid precondition as the API server does."""
        wanted = (options.get("preconditions") or {}).get("uid")
        with self._lock:
            found = [
                o
                for o in self.objects
                if o.get("kind") == "NetworkPolicy"
                and o["metadata"].get("namespace") == ns
                and o["metadata"].get("name") == name
            ]
            if not found:
                message = f'networkpolicies.networking.k8s.io "{name}" not found'
                return 404, _status(404, "NotFound", message)
            uid = found[0]["metadata"].get("uid")
            if wanted and wanted != uid:
                message = (
                    f"Precondition failed: UID in precondition: {wanted}, UID in object meta: {uid}"
                )
                return 409, _status(409, "Conflict", message)
            self.objects = [o for o in self.objects if o is not found[0]]
            self.deleted.append(f"{ns}/{name}")
        return 200, _status(200, "", "", status="Success")

    def _pod_security(self, ns: str, pod: dict[str, Any]) -> dict[str, Any] | None:
        """Pod Security admission for the one thing the probe pods vary in: host namespaces.
        The refusal is the Status the API server sends (its message format included)."""
        space = next(
            (
                o
                for o in self.objects
                if o.get("kind") == "Namespace" and o["metadata"].get("name") == ns
            ),
            {},
        )
        level = (space.get("metadata", {}).get("labels") or {}).get(
            "pod-security.kubernetes.io/enforce", "privileged"
        )
        if level == "privileged" or not (pod.get("spec") or {}).get("hostNetwork"):
            return None
        name = pod.get("metadata", {}).get("name", "")
        message = (
            f'pods "{name}" is forbidden: violates PodSecurity "{level}:latest": '
            "host namespaces (hostNetwork=true)"
        )
        return _status(403, "Forbidden", message, details={"name": name, "kind": "pods"})

    def _delete_pod(self, ns: str, name: str) -> tuple[int, Any]:
        with self._lock:
            self.deleted.append(f"{ns}/{name}")
            before = len(self.objects)
            self.objects = [
                o
                for o in self.objects
                if not (
                    o.get("kind") == "Pod"
                    and o["metadata"].get("name") == name
                    and o["metadata"].get("namespace") == ns
                )
            ]
        if len(self.objects) == before:
            return 404, _status(404, "NotFound", f'pods "{name}" not found')
        return 200, _status(200, "", "", status="Success")

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.requests if m != "GET"]

    def wait_idle(self, seconds: float = 0.2) -> None:
        time.sleep(seconds)


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)")


def _line_times(lines: list[str]) -> list[datetime.datetime | None]:
    """Each line's time from its leading timestamp (ISO or PostgreSQL's), else the time of the
    line before it (a continuation line); None before the first stamped line."""
    out: list[datetime.datetime | None] = []
    last: datetime.datetime | None = None
    for line in lines:
        found = _STAMP.match(line)
        if found:
            last = datetime.datetime.fromisoformat(f"{found[1]}T{found[2]}+00:00")
        out.append(last)
    return out


def _frame(payload: bytes, *, opcode: int = 2) -> bytes:
    """One unmasked (server-to-client) websocket frame."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload


def _read_frame(rfile: Any) -> tuple[int, bytes] | None:
    """One (masked, client-to-server) websocket frame; None at end of stream."""
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, masked, n = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", rfile.read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", rfile.read(8))[0]
    mask = rfile.read(4) if masked else b""
    payload = rfile.read(n)
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    """A real API server accepts many parallel connections; the stdlib default backlog (5)
    drops SYNs under the gatherer's 16 parallel requests and adds 1 s retransmits."""


ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
WHO_AM_I = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def _status(
    code: int,
    reason: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    status: str = "Failure",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": status,
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        out["details"] = details
    return out
