"""What every DNS fix builder returns (`Problem`), and the lookup commands they share: the exact
`getent`/`nslookup` from inside the client that shows whether a name resolves."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from paramedic.checks import clues, model
from paramedic.kube import objects, resolve


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    kind: str
    summary: str
    evidence: tuple[model.Cite, ...]
    fix_summary: str
    steps: tuple[model.FixStep, ...]
    why: str
    verify: str
    priority: model.Priority
    confidence: model.Confidence = model.Confidence.HIGH
    alternatives: tuple[str, ...] = ()
    rollback: str = ""

    def with_evidence(self, cite: model.Cite) -> Problem:
        return dataclasses.replace(self, evidence=(*self.evidence, cite))


def verify_lookup(scope: resolve.Scope, host: str) -> str:
    """`exec_lookup`, with what it prints once the name resolves."""
    return f"{exec_lookup(scope, host)}  # expect a line with the address of {host}"


def exec_lookup(scope: resolve.Scope, host: str) -> str:
    """The exact command that resolves `host` from inside the client."""
    ref = clues.workload_ref(scope.source_workload)
    if ref is not None:
        kind, ns, name = ref
        return f"kubectl -n {ns} exec {kind}/{name} -- getent hosts {host}"
    if scope.source_pods:
        pod = scope.source_pods[0]
        return (
            f"kubectl -n {objects.namespace(pod)} exec {objects.name(pod)} -- getent hosts {host}"
        )
    image = "registry.k8s.io/e2e-test-images/agnhost:2.39"
    return f"kubectl run dnsutils --rm -it --image={image} -- nslookup {host}"


def client_cites(client: Sequence[clues.Clue]) -> list[model.Cite]:
    return [c.cite("client: ") for c in client]
