"""Readings several checks share: recognised error lines in pod logs and Events, the plain
(non-secret) settings a container is started with, and the workload a pod belongs to.

Not a check. It exists so that `dns`, `connection-pool`, `firewall` and `readiness-probe` read
logs and env the same way and cite them the same way ('log app/pod/app:12', 'Event app/x').
Secret values are never read: env vars from Secrets are reported by name only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.checks import logindex, model, signatures
from paramedic.evidence import model as evidence_model
from paramedic.kube import env, objects, pods


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Clue:
    """A recognised error line and where it was seen."""

    meaning: str
    signature_id: str
    line: str
    source: str
    """'log ns/pod/container:N' or 'Event ns/name'."""
    pod: str = ""
    count: int = 1

    def cite(self, prefix: str = "", width: int = 150) -> model.Cite:
        times = f" (×{self.count})" if self.count > 1 else ""
        return model.Cite(text=f"{prefix}{short(self.line, width)}{times}", source=self.source)


_LEVELS = {"INFO", "WARN", "WARNING", "ERROR", "DEBUG", "FATAL", "LOG:", "UTC"}


def short(line: str, width: int = 150) -> str:
    """A log line without its leading timestamp and level, cut at a word boundary."""
    words = line.split()
    while len(words) > 1 and (
        words[0][:1].isdigit()
        or words[0] in _LEVELS
        or (words[0].startswith("[") and words[0][1:-1].isdigit())
    ):
        words.pop(0)
    text = " ".join(words)
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width - 2)
    return text[: cut if cut > width // 2 else width - 2] + " …"


def log_clues(
    evidence: evidence_model.Evidence, pod_list: Iterable[Mapping[str, Any]]
) -> list[Clue]:
    """Recognised lines in the logs of these pods (every container, previous runs included)."""
    found: list[Clue] = []
    for pod in pod_list:
        ns, name = objects.namespace(pod), objects.name(pod)
        for container, (lines, hits) in sorted(logindex.pod_hits(evidence, ns, name).items()):
            for index in sorted(hits):
                signature = hits[index].signature
                if signature is None:
                    continue
                found.append(
                    Clue(
                        meaning=signature.meaning,
                        signature_id=signature.id,
                        line=lines[index],
                        source=f"log {ns}/{name}/{container}:{index + 1}",
                        pod=name,
                    )
                )
    return found


def has_logs(evidence: evidence_model.Evidence, pod_list: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the evidence holds any log of these pods (so a clean log means something)."""
    return any(evidence.pod_logs(objects.namespace(p), objects.name(p)) for p in pod_list)


def pod_events(
    evidence: evidence_model.Evidence, pod_list: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The Events of the namespaces these pods live in (an Event about a pod is always in the
    pod's namespace), so a check reads Events only where its needs fetch them."""
    spaces = sorted({objects.namespace(p) for p in pod_list})
    return [e for ns in spaces for e in evidence.kind("Event", ns)]


def event_clues(
    evidence: evidence_model.Evidence, pod_list: Iterable[Mapping[str, Any]]
) -> list[Clue]:
    """Recognised Event messages about these pods (probe failures, liveness kills)."""
    wanted = {(objects.namespace(p), objects.name(p)) for p in pod_list}
    found: list[Clue] = []
    for event in pod_events(evidence, pod_list):
        involved = objects.as_dict(event.get("involvedObject"))
        key = (
            str(involved.get("namespace") or objects.namespace(event)),
            str(involved.get("name", "")),
        )
        if key not in wanted:
            continue
        message = str(event.get("message") or event.get("note") or "")
        signature = signatures.classify(message)
        if signature is None:
            continue
        count = event.get("count") or objects.as_dict(event.get("series")).get("count") or 1
        found.append(
            Clue(
                meaning=signature.meaning,
                signature_id=signature.id,
                line=message,
                source=objects.ref(event),
                pod=key[1],
                count=int(count) if isinstance(count, int) else 1,
            )
        )
    return found


def first_per_pod(clues: Iterable[Clue], meanings: Iterable[str], limit: int = 3) -> list[Clue]:
    """At most one clue per pod with one of `meanings`, up to `limit` (for readable evidence)."""
    wanted = set(meanings)
    seen: set[str] = set()
    out = []
    for clue in clues:
        if clue.meaning in wanted and clue.pod not in seen:
            seen.add(clue.pod)
            out.append(clue)
            if len(out) >= limit:
                break
    return out


def count(clues: Iterable[Clue], meanings: Iterable[str]) -> int:
    wanted = set(meanings)
    return sum(c.count for c in clues if c.meaning in wanted)


def env_values(
    container: Mapping[str, Any],
    evidence: evidence_model.Evidence,
    namespace: str,
    owner: Mapping[str, Any] | None = None,
    *,
    referenced: bool = True,
) -> dict[str, str]:
    """A container's plain settings: literal `value`s, and `configMapKeyRef`/`configMapRef` values
    found in the evidence, in the kubelet's order (kube.env.effective_env), with `$(NAME)`
    expanded as the kubelet does: from the container's earlier variables and the Service
    variables (`PROFILE_DB_SERVICE_HOST`) of the Services in `namespace`, unless the pod spec of
    `owner` (the pod or workload) says `enableServiceLinks: false`. Secret-backed variables are
    left out (their values are never read), also where they override a ConfigMap's key.
    `referenced=False` reads no Secret or ConfigMap (a workload outside the namespaces whose
    objects live gathering fetches: only its literal values count)."""
    out: dict[str, str] = {}
    services: dict[str, str] | None = None  # read only when a value refers to a variable

    def lookup(kind: str, name: str) -> Mapping[str, Any] | None:
        return evidence.get(kind, namespace, name) if referenced else None

    for var in env.effective_env(container, lookup):
        if var.source == "value":
            value = var.value or ""
            if "$" in value and services is None:
                services = _service_variables(evidence, namespace, owner)
            out[var.name] = (
                env.expand(value, {**(services or {}), **out}) if "$" in value else value
            )
        elif var.source in ("configMapKeyRef", "configMapRef"):
            config = lookup("ConfigMap", str(var.ref_name))
            found = objects.as_dict(config.get("data")).get(str(var.key)) if config else None
            if found is not None:
                out[var.name] = str(found)
    return out


def _service_variables(
    evidence: evidence_model.Evidence, namespace: str, owner: Mapping[str, Any] | None
) -> dict[str, str]:
    links = owner is None or pods.pod_spec(owner).get("enableServiceLinks") is not False
    linked = evidence.kind("Service", namespace) if links else ()
    master = evidence.get("Service", "default", "kubernetes")
    return env.service_variables([*linked, *([master] if master else [])])


def owner_workload(
    evidence: evidence_model.Evidence, pod: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The StatefulSet, Deployment (through its ReplicaSet, or the ReplicaSet when the Deployment
    is not in the evidence) or DaemonSet a pod belongs to; None when none is in the evidence."""
    ns = objects.namespace(pod)
    workloads = [
        w for k in ("StatefulSet", "Deployment", "DaemonSet") for w in evidence.kind(k, ns)
    ]
    return pods.owner_workload(pod, workloads, evidence.kind("ReplicaSet", ns))


def workload_ref(scope_source: Mapping[str, Any] | None) -> tuple[str, str, str] | None:
    """(kind lowercased for kubectl, namespace, name) of a workload, for exact commands."""
    if scope_source is None or scope_source.get("kind") == "Pod":
        return None
    return (
        str(scope_source.get("kind", "")).lower(),
        objects.namespace(scope_source),
        objects.name(scope_source),
    )
