"""Detectors of `readiness-probe`: each client container's probes and the database's liveness
probe (`observe`), and the warning with the exact probe patches (`fragile`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.readiness_probe import probe_facts
from paramedic.evidence import model as evidence_model
from paramedic.kube import objects, pods, resolve


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """The probes to change: per-container patches of the client and of the database workload,
    the evidence for them and what to expect once the cause is fixed."""

    template: Mapping[str, Any]
    patches: list[dict[str, Any]]
    db_workload: Mapping[str, Any] | None
    db_patches: list[dict[str, Any]]
    cites: tuple[model.Cite, ...]
    expect: list[str]


def no_client(scope: resolve.Scope) -> model.Finding:
    return model.Finding(
        verdict=model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.LOW,
        summary="the client's pod spec is not in the evidence",
        missing=f"kubectl -n {scope.namespace} get deployment -o yaml",
    )


def observe(ctx: model.Context, template: Mapping[str, Any]) -> Observed:
    scope, ev = ctx.scope, ctx.evidence
    log_lines = [
        ln
        for p in scope.source_pods
        for lines in ev.pod_logs(objects.namespace(p), objects.name(p)).values()
        for ln in lines
    ]
    events = clues.event_clues(ev, scope.source_pods)
    cites: list[model.Cite] = []
    patches: list[dict[str, Any]] = []
    expect: list[str] = []
    restarts = [e for e in events if e.meaning == "liveness-restart"]
    for container in pods.containers(template):
        patch = _container_patch(container, template, log_lines, restarts, cites, expect)
        if len(patch) > 1:
            patches.append(patch)
    for clue in clues.first_per_pod(
        events, ("probe-timeout", "probe-failed", "liveness-restart"), limit=2
    ):
        cites.append(clue.cite())
    db_workload, db_patches = _database_liveness(ev, scope, cites, expect)
    return Observed(
        template=template,
        patches=patches,
        db_workload=db_workload,
        db_patches=db_patches,
        cites=tuple(cites),
        expect=expect,
    )


def fragile(ctx: model.Context, seen: Observed) -> model.Finding:
    """A warning with the probe patches, or ruled out when no probe needs one."""
    patches, db_patches, expect = seen.patches, seen.db_patches, seen.expect
    if not patches and not db_patches:
        return model.Finding(
            verdict=model.Verdict.RULED_OUT,
            confidence=model.Confidence.MEDIUM,
            summary="probes have timeouts above 1 s, tolerate one failure and do not call the DB "
            "from liveness",
            evidence=seen.cites,
        )
    first = _first_cause(ctx)
    lead = f"once {first.check} is fixed" if first else "when the database is slow or restarts"
    return model.Finding(
        verdict=model.Verdict.WARNING,
        confidence=model.Confidence.MEDIUM,
        summary=f"{lead}, expect {expect[0] if expect else 'probe failures'}",
        evidence=seen.cites,
        fix=_fix([(seen.template, patches), (seen.db_workload, db_patches)]),
        why="A 1 s timeout and a single allowed failure turn one slow database round-trip into an "
        "unready pod; with 3 s and 3 failures a pod must be unhealthy for ~30 s before it leaves "
        "the "
        "Service. Liveness should only say whether the process is alive: a TCP check never "
        "restarts "
        "pods because the database is down."
        + (" Also: " + "; ".join(expect[1:]) + "." if len(expect) > 1 else ""),
        verify=f"kubectl -n {ctx.scope.namespace} get events --field-selector reason=Unhealthy"
        "  # expect no new probe failures after the rollout",
        details={"patches": patches, "database_patches": db_patches},
    )


def _container_patch(
    container: Mapping[str, Any],
    template: Mapping[str, Any],
    log_lines: list[str],
    restarts: list[clues.Clue],
    cites: list[model.Cite],
    expect: list[str],
) -> dict[str, Any]:
    """The probe patch of one client container ({"name": ...} alone when nothing needs a change);
    what it rests on goes to `cites`, what would break to `expect`."""
    cname = str(container.get("name", ""))
    patch: dict[str, Any] = {"name": cname}
    ready = objects.as_dict(container.get("readinessProbe"))
    live = objects.as_dict(container.get("livenessProbe"))
    for kind, probe in (("readinessProbe", ready), ("livenessProbe", live)):
        problems, db = probe_facts.problems(probe, log_lines) if probe else ([], False)
        if not problems:
            continue
        cites.append(
            model.Cite(
                text=f"{cname} {kind} {probe_facts.handler(probe)}: {', '.join(problems)}",
                source=objects.ref(template),
            )
        )
        fixed: dict[str, Any] = {"timeoutSeconds": 3, "failureThreshold": 3, "periodSeconds": 10}
        if kind == "livenessProbe" and db:
            fixed = {
                "tcpSocket": {"port": probe_facts.port(probe, container)},
                **fixed,
                "httpGet": None,
                "exec": None,
            }
            expect.append(
                "a DB blip restarts every pod at once through the liveness probe, and the "
                "reconnect storm can exhaust connections (SQLSTATE 53300)"
            )
        elif kind == "readinessProbe":
            expect.append(
                f"the readiness probe {probe_facts.handler(probe)} (timeout "
                f"{probe.get('timeoutSeconds', 1)} s, "
                f"failureThreshold {probe.get('failureThreshold', 3)}) marks pods unready on the "
                "first slow answer while connections warm up, and the Service then has no "
                "endpoints"
            )
        patch[kind] = fixed
    if live and not container.get("startupProbe") and restarts:
        patch["startupProbe"] = {
            "tcpSocket": {"port": probe_facts.port(live, container)},
            "periodSeconds": 10,
            "failureThreshold": 30,
        }
        cites.append(
            model.Cite(
                text=f"{cname}: liveness kills during start-up and no startupProbe",
                source=restarts[0].source,
            )
        )
    return patch


def _first_cause(ctx: model.Context) -> model.Finding | None:
    causes = [f for f in ctx.earlier.values() if f.verdict is model.Verdict.CAUSE]
    return min(causes, key=lambda f: f.priority) if causes else None


def _database_liveness(
    ev: evidence_model.Evidence, scope: resolve.Scope, cites: list[model.Cite], expect: list[str]
) -> tuple[Mapping[str, Any] | None, list[dict[str, Any]]]:
    """A DB liveness probe with a 1 s timeout or one allowed failure restarts PostgreSQL exactly
    when it is slowest (crash recovery, checkpoints): every client then reconnects at once."""
    if not scope.target_pods:
        return None, []
    workload = clues.owner_workload(ev, scope.target_pods[0])
    if workload is None:
        return None, []
    found = []
    for container in pods.containers(workload):
        live = objects.as_dict(container.get("livenessProbe"))
        if not live:
            continue
        timeout, threshold = probe_facts.timing(live)
        if timeout > 1 and threshold > 1:
            continue
        cites.append(
            model.Cite(
                text=f"database {container.get('name')} livenessProbe {probe_facts.handler(live)}: "
                f"timeoutSeconds {timeout}, failureThreshold {threshold}",
                source=objects.ref(workload),
            )
        )
        expect.append(
            "the database's liveness probe restarts PostgreSQL while it recovers, and every "
            "client reconnects at once"
        )
        found.append(
            {
                "name": container.get("name"),
                "livenessProbe": {"timeoutSeconds": 5, "failureThreshold": 6, "periodSeconds": 10},
            }
        )
    return workload, found


def _swaps_db_handler(patches: list[dict[str, Any]]) -> bool:
    """Whether a patch replaces a liveness handler that called the database by a TCP check."""
    return any("tcpSocket" in objects.as_dict(p.get("livenessProbe")) for p in patches)


def _fix(targets: list[tuple[Mapping[str, Any] | None, list[dict[str, Any]]]]) -> model.Fix:
    swaps = any(_swaps_db_handler(p) for _, p in targets)
    return model.Fix(
        summary="give probes 3 s and 3 failures"
        + (", and keep the database out of liveness" if swaps else ""),
        steps=tuple(_step(t, p) for t, p in targets if t is not None and p),
        rollback="; ".join(
            f"kubectl -n {objects.namespace(t)} rollout undo "
            f"{str(t.get('kind', '')).lower()}/{objects.name(t)}"
            for t, p in targets
            if t is not None and p
        ),
    )


def _step(template: Mapping[str, Any], patches: list[dict[str, Any]]) -> model.FixStep:
    body = {"spec": {"template": {"spec": {"containers": patches}}}}
    kind, ns, name = (
        str(template.get("kind", "")).lower(),
        objects.namespace(template),
        objects.name(template),
    )
    return model.FixStep(
        description=f"Patch {objects.ref(template)} (a strategic merge"
        + ("; null removes the DB handler" if _swaps_db_handler(patches) else "")
        + "):",
        language="shell",
        content=f"kubectl -n {ns} patch {kind} {name} --type strategic -p "
        f"'{json.dumps(body, separators=(',', ':'))}'",
        action={"op": "patch", "target": objects.ref(template), "patch": body},
    )
