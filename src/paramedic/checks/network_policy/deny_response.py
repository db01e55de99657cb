"""How the client sees a Cilium policy denial, from the agent's configuration and its logs.

Cilium drops a denied packet silently by default (the client times out). With
`policy-deny-response: icmp` in ConfigMap kube-system/cilium-config it answers an IPv4
connection attempt with ICMP destination unreachable, which the client's kernel reports as
EHOSTUNREACH: libpq logs "No route to host" at once instead of timing out (docs/FAILURE-FACTS.md,
how each CNI handles denied traffic). A finding that Cilium denies the flow cites this, with a
client log line that shows it, so the odd error text is explained rather than chased as routing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from paramedic.checks import clues, model
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects

CONFIG = ("kube-system", "cilium-config")


def cites(
    evidence: evidence_model.Evidence, client_pods: Iterable[Mapping[str, Any]]
) -> tuple[model.Cite, ...]:
    config = evidence.get("ConfigMap", *CONFIG)
    data = objects.as_dict(config.get("data")) if config is not None else {}
    mode = str(data.get("policy-deny-response") or "").strip().lower()
    if mode != "icmp":
        return ()
    found = [
        model.Cite(
            text="Cilium answers denied connections with ICMP (policy-deny-response: icmp): "
            "clients see 'No route to host' at once instead of a timeout",
            source=f"ConfigMap {CONFIG[0]}/{CONFIG[1]}",
        )
    ]
    seen = clues.first_per_pod(clues.log_clues(evidence, client_pods), ("no-route",), limit=1)
    found += [c.cite("the client logs it: ") for c in seen]
    return tuple(found)
