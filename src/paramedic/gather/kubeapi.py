"""The thin adapter over the official `kubernetes` client: connect, and one raw HTTP call.

This is the only module that touches the client library and the only place its exceptions are
translated: a configuration that cannot be used raises `errors.KubeAccessError` (one line, exit
2); a single failed call never raises, it returns a `Reply` whose `problem` ("forbidden",
"timed out after 2.0 s", "not found") the gatherer turns into a gap line.

Responses are kept as the JSON the API server sent (camelCase dicts, exactly what
`kubectl get -o json` prints), not the client's generated model classes: they are faster to
decode and lose nothing. The client library is imported lazily so `paramedic --help` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from paramedic import errors
from paramedic.gather import bounded_read, credential_plugin
from paramedic.gather import kubeconfig as kubeconfig_file
from paramedic.probes import bounded

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
USER_AGENT = "paramedic (read-only diagnosis; https://github.com/paramedic)"
NO_SUCH_NAME = "API server name does not resolve"
"""The problem an unresolvable API server name is reported as, by the first lookup or a request."""
RESOLVE_SECONDS = 5.0
"""The longest the API server's name is looked up for before the requests start."""
_NAME_ERRNOS = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_PROXY_VARIABLES = {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}
TOKEN_CHECK_SECONDS = 1.0
"""How often the client's token refresh runs: it copies the whole kubeconfig onto the
configuration again, the proxy environment re-read included (~0.1 ms CPU), before every request."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """What one API call returned: a status and decoded JSON, or a one-line problem."""

    status: int
    data: Any = None
    text: str = ""
    problem: str = ""
    """Empty on success (2xx); else 'forbidden', 'not found', 'timed out after 2.0 s', ..."""
    truncated: bool = False
    """A raw answer (a log) reached the byte limit of the call: `text` is its head."""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def not_found(self) -> bool:
        return self.status == 404


@dataclasses.dataclass(frozen=True, slots=True)
class Api:
    """A configured API client plus what kubectl would show as the context and its namespace."""

    client: Any
    """kubernetes.client.ApiClient"""
    context: str
    namespace: str

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
        timeout: float,
        raw: bool = False,
        limit: int = bounded_read.MAX_BODY_BYTES,
    ) -> Reply:
        """One request, body included, within `timeout` seconds of wall-clock time and `limit`
        bytes (`bounded_read.read`); never raises for network or HTTP errors."""
        from kubernetes.client import exceptions as kube_exceptions  # lazy: import cost
        from urllib3 import exceptions as urllib3_exceptions

        timeout = max(timeout, 0.05)
        deadline = time.monotonic() + timeout
        headers = {"Accept": "text/plain" if raw else "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            request = self.client.param_serialize(
                method,
                path,
                query_params=list(query) or None,
                header_params=headers,
                body=dict(body) if body is not None else None,
                auth_settings=["BearerToken"],
            )
            response = self.client.call_api(*request, _request_timeout=timeout)
            content = bounded_read.read(response.response, deadline=deadline, limit=limit)
        except urllib3_exceptions.NewConnectionError as exc:
            # urllib3 2.x makes this a ConnectTimeoutError subclass, but a refusal or an
            # unresolvable name is not a timeout: report what it is.
            return Reply(status=0, problem=_network_problem(exc, timeout))
        except (urllib3_exceptions.TimeoutError, TimeoutError):
            return Reply(status=0, problem=f"timed out after {timeout:.1f} s")
        except urllib3_exceptions.MaxRetryError as exc:
            return Reply(status=0, problem=_network_problem(exc.reason, timeout))
        except (urllib3_exceptions.HTTPError, OSError) as exc:
            return Reply(status=0, problem=_network_problem(exc, timeout))
        except kube_exceptions.ApiException as exc:  # TLS and auth-plugin failures surface here
            return Reply(status=int(exc.status or 0), problem=_first_line(str(exc.reason or exc)))
        except kube_exceptions.OpenApiException as exc:
            return Reply(status=0, problem=_first_line(str(exc)))
        if content.timed_out:
            return Reply(status=0, problem=f"answer not complete within {timeout:.1f} s")
        text = content.data.decode("utf-8", errors="replace")
        status = int(response.status)
        if not 200 <= status < 300:
            return Reply(status=status, text=text, problem=_http_problem(status, text))
        if raw:
            return Reply(status=status, text=text, truncated=content.truncated)
        if content.truncated:
            return Reply(status=status, problem=f"answer over {limit // 1024**2} MiB")
        try:
            return Reply(status=status, data=json.loads(text) if text else None)
        except json.JSONDecodeError:
            return Reply(status=status, text=text, problem="answer is not JSON")
        except (ValueError, RecursionError):  # a number of over 4300 digits, absurd nesting
            return Reply(status=status, problem="answer is not JSON Kubernetes would send")


def connect(*, kubeconfig: str | None, context: str | None, pool_size: int, timeout: float) -> Api:
    """An `Api` from --kubeconfig/KUBECONFIG/~/.kube/config (contexts, exec plugins) or, inside
    a pod, the service account. Raises KubeAccessError with one line when neither is usable, or
    when the credentials are not ready within `timeout` seconds: the client runs an exec
    credential plugin (which often asks a cloud API) with no time limit of its own."""
    from kubernetes import client  # lazy: the client library takes ~0.3 s to import

    configuration = client.Configuration()
    loaded = bounded.call(
        lambda: _configure(configuration, kubeconfig, context),
        seconds=timeout,
        name="paramedic-kubeconfig",
    )
    if not loaded.finished:
        raise errors.KubeAccessError(
            f"kubeconfig: no credentials within {timeout:g} s (is its exec plugin hanging?)"
        )
    if loaded.error is not None:
        raise loaded.error
    assert loaded.value is not None
    name, namespace = loaded.value
    if not configuration.verify_ssl:
        _tls_verification_off(name)
    configuration.retries = False  # one attempt per call: the deadline, not urllib3, decides
    if configuration.refresh_api_key_hook is not None:
        configuration.refresh_api_key_hook = _at_most_every(
            TOKEN_CHECK_SECONDS, configuration.refresh_api_key_hook
        )
    configuration.connection_pool_maxsize = pool_size
    if not configuration.proxy and not _PROXY_VARIABLES & set(os.environ):
        _resolvable(configuration.host, name, timeout)  # through a proxy, the proxy resolves
    api_client = client.ApiClient(configuration)
    api_client.user_agent = USER_AGENT
    return Api(client=api_client, context=name, namespace=namespace)


def unreachable(host: str, context: str, problem: str) -> errors.KubeAccessError:
    """The one line saying that no request reached the API server, and why."""
    return errors.KubeAccessError(
        f"cannot reach the API server {host} of context {context}: {problem}"
    )


def rejected(host: str, context: str) -> errors.KubeAccessError:
    """The one line saying that the API server refused every request's credentials."""
    return errors.KubeAccessError(
        f"the API server {host} rejected the credentials of context {context} on every request"
        " (401 Unauthorized): its token or client certificate is expired or wrong"
    )


def may_read_nothing(context: str, problem: str) -> errors.KubeAccessError:
    """The one line saying that every request was forbidden: no role is bound to the user."""
    return errors.KubeAccessError(
        f"context {context} may read nothing: every read was {problem};"
        " bind that user the read-only ClusterRole paramedic-reader (`paramedic rbac --check`"
        " prints the command that does)"
    )


def _resolvable(host: str, context: str, timeout: float) -> None:
    """The API server's name is looked up once before the parallel requests start: a name
    that does not exist is reported at once, instead of by every request's own lookup (a dozen
    at the same moment, which a resolver that drops some answers held for its 5 s retry).
    A lookup that does not answer in time is left to the requests' own deadline."""
    parsed = urllib.parse.urlsplit(host)
    name = parsed.hostname
    if not name:
        return
    found = bounded.call(
        lambda: socket.getaddrinfo(name, parsed.port or 443, type=socket.SOCK_STREAM),
        seconds=min(timeout, RESOLVE_SECONDS),
        name="paramedic-resolve",
    )
    if isinstance(found.error, socket.gaierror) and found.error.errno in _NAME_ERRNOS:
        raise unreachable(host, context, NO_SUCH_NAME)


def _at_most_every(seconds: float, refresh: Any) -> Any:
    """The client's token refresh hook run at most once per `seconds` (and by one thread at a
    time). The client only renews a token that expires within 5 minutes, so a check up to a
    second late still renews it in time; the 16 parallel requests no longer each redo it. The
    client's hook installs itself again each time it runs: it is wrapped again."""
    lock = threading.Lock()
    last = [-float("inf")]
    current = [refresh]

    def hook(configuration: Any) -> None:
        with lock:
            if time.monotonic() - last[0] < seconds:
                return
            current[0](configuration)
            last[0] = time.monotonic()
            again = configuration.refresh_api_key_hook
            if again is not None and again is not hook:
                current[0], configuration.refresh_api_key_hook = again, hook

    return hook


def _tls_verification_off(context: str) -> None:
    """One warning of ours instead of urllib3's InsecureRequestWarning on every request."""
    import warnings

    from urllib3 import exceptions as urllib3_exceptions

    warnings.filterwarnings("ignore", category=urllib3_exceptions.InsecureRequestWarning)
    warnings.warn(
        f"TLS verification is off for context {context} (insecure-skip-tls-verify): "
        "anyone on the path to the API server could answer in its place",
        errors.ParamedicWarning,
        stacklevel=2,
    )


def close(api: Api) -> None:
    """Release the connection pool."""
    api.client.close()


# --- configuration ----------------------------------------------------------------------------


def _configure(configuration: Any, kubeconfig: str | None, context: str | None) -> tuple[str, str]:
    """Fill `configuration` (kubernetes.client.Configuration); (context name, its namespace)."""
    files = kubeconfig_file.files(kubeconfig)
    where = os.pathsep.join(str(f) for f in files) or "kubeconfig"
    with credential_plugin.failure() as failed:
        name, namespace = _load(configuration, kubeconfig, context, files, where)
    if failed:  # kubectl stops here too: without it the requests go out with no credentials
        raise errors.KubeAccessError(
            f"kubeconfig: the credential plugin of context {name} failed: {failed[0]}"
        )
    return name, namespace


def _load(
    configuration: Any, kubeconfig: str | None, context: str | None, files: list[Path], where: str
) -> tuple[str, str]:
    import yaml
    from kubernetes import config
    from kubernetes.config import config_exception

    try:
        if files:
            name, namespace = kubeconfig_file.pick_context(files, context)
            config.load_kube_config(
                config_file=os.pathsep.join(str(f) for f in files)
                if kubeconfig is None
                else kubeconfig,
                context=name,
                client_configuration=configuration,
                persist_config=False,
            )
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            if context:
                raise errors.KubeAccessError(
                    f"--context {context}: no kubeconfig here (running in a pod)"
                )
            config.load_incluster_config(client_configuration=configuration)
            name, namespace = "in-cluster", _in_cluster_namespace()
        else:
            raise errors.KubeAccessError(
                "no kubeconfig: ~/.kube/config does not exist, KUBECONFIG is not set and this"
                " is not a pod; pass --kubeconfig FILE (or a BUNDLE to diagnose offline)"
            )
    except config_exception.ConfigException as exc:
        raise errors.KubeAccessError(f"kubeconfig: {_first_line(str(exc))}") from exc
    except yaml.YAMLError as exc:  # the client's PyYAML is stricter than our reader (tabs)
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML the Kubernetes client reads"
        raise errors.KubeAccessError(f"{where}: {at}invalid YAML: {problem}") from exc
    except (OSError, ValueError, OverflowError, TypeError, RecursionError) as exc:
        # ValueError: the client's SafeLoader builds timestamps, and 2024-13-01 is no date
        raise errors.KubeAccessError(f"{where}: cannot use it ({_first_line(str(exc))})") from exc
    return name, namespace


def _in_cluster_namespace() -> str:
    try:
        return IN_CLUSTER_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"


# --- problems as one line ---------------------------------------------------------------------


def _http_problem(status: int, text: str) -> str:
    reason = {
        401: "unauthorized (credentials rejected)",
        403: "forbidden",
        404: "not found",
        405: "method not allowed",
        429: "too many requests (API priority and fairness)",
        503: "service unavailable",
    }.get(status, f"HTTP {status}")
    message = status_message(text)
    if status == 403 and 'User "' in message:
        user = message.split('User "', 1)[1].split('"', 1)[0]
        return f"forbidden (for user {user})"
    if status == 403 and "violates PodSecurity" in message:  # admission, not RBAC: say which rule
        return "forbidden: " + _first_line(message.split("is forbidden: ", 1)[-1])[:300]
    return reason


def status_message(text: str) -> str:
    """The `message` of a Status the API server answered with ('' for anything else): its own
    words for a refusal (RBAC, admission, AlreadyExists, a failed precondition)."""
    try:
        doc = json.loads(text) if text else {}
    except (ValueError, RecursionError):
        return ""
    return str(doc.get("message") or "") if isinstance(doc, dict) else ""


def _network_problem(exc: BaseException | None, timeout: float) -> str:
    from urllib3 import exceptions as urllib3_exceptions

    if isinstance(exc, urllib3_exceptions.TimeoutError | TimeoutError) and not isinstance(
        exc, urllib3_exceptions.NewConnectionError
    ):
        return f"timed out after {timeout:.1f} s"
    if isinstance(exc, urllib3_exceptions.SSLError):
        return f"TLS error ({_first_line(str(exc))})"
    text = str(exc) if exc is not None else "connection failed"
    if "Connection refused" in text:
        return "connection refused (is the API server address right?)"
    if isinstance(exc, urllib3_exceptions.NameResolutionError) or any(
        marker in text
        for marker in ("Name or service not known", "nodename nor servname", "Failed to resolve")
    ):
        return NO_SUCH_NAME
    return f"connection failed ({_first_line(text)})"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "error"
    return line[:300]
