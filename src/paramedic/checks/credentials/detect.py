"""Check `credentials`: is the client's database credential present, current and accepted?

Three ways it breaks (FIELD-NOTES §2, §6): the workload references a Secret or key that does not
exist (pods stuck in CreateContainerConfigError); the Secret changed after the pods started (env
vars and subPath mounts keep the old value until a restart); or PostgreSQL rejects the password
or has no pg_hba.conf line for the client (log lines of client and server, recorded postgres
probes). Secrets are shown as key names and digests only. Fixes: `credential_fixes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paramedic.checks import clues, credential_facts, credential_fixes, model, registry
from paramedic.evidence import model as evidence_model
from paramedic.evidence import redact
from paramedic.kube import env, objects

_ID = "credentials"
_AUTH_MEANINGS = ("auth-failed", "no-hba-entry")


@registry.check(
    _ID,
    title="The client's database credentials exist, are current and are accepted",
    needs=("Secret", "Pod", "Event", "Deployment", "ReplicaSet", "logs", "probes:postgres"),
)
def run(ctx: model.Context) -> model.Finding:
    ev, scope = ctx.evidence, ctx.scope
    template = scope.source_template()
    if template is None:
        return _finding(
            model.Verdict.INCONCLUSIVE,
            model.Confidence.LOW,
            f"no pod or workload of {scope.source} in the evidence",
            missing=f"kubectl get deploy,pods -n {scope.namespace} -o yaml",
        )
    ns = objects.namespace(template)
    pod_list = list(scope.source_pods)
    evidence = _secret_lines(ev, template, ns)

    missing = credential_facts.missing_refs(ev, template, pod_list, ns)
    if missing:
        first = missing[0]
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.HIGH,
            credential_fixes.missing_summary(template, first),
            evidence=(*first.cites, *evidence),
            priority=10,
            **credential_fixes.for_missing(template, first),
        )

    auth = [
        c
        for c in clues.log_clues(ev, pod_list) + clues.log_clues(ev, scope.target_pods)
        if c.meaning in _AUTH_MEANINGS
    ]
    probes = [p for p in ev.probes_of("postgres") if p.outcome in _AUTH_MEANINGS]
    auth_cites = [model.Cite(text=_clean(c.line), source=c.source) for c in _first_per_source(auth)]
    auth_cites += [
        model.Cite(
            text=f"postgres probe as user {p.data.get('user', '?')!r}: {p.outcome}: "
            f"{_clean(str(p.data.get('server_message') or p.detail))}",
            source=f"probe postgres {p.target}",
        )
        for p in probes
    ]
    auth_count = len(auth) + len(probes)
    hba: list[Any] = [c for c in auth if c.meaning == "no-hba-entry"]
    hba += [p for p in probes if p.outcome == "no-hba-entry"]

    stale = credential_facts.stale_reads(ev, template, pod_list, ns)
    stale_cites = [credential_fixes.stale_cite(s) for s in stale]
    if hba:
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.HIGH,
            f"PostgreSQL has no pg_hba.conf line for the client ({auth_count} rejection(s))",
            evidence=(*auth_cites, *evidence),
            priority=30,
            **credential_fixes.for_hba(ev, scope, hba[0]),
        )
    if stale and auth_count:
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.HIGH,
            credential_fixes.stale_summary(stale[0], auth_count),
            evidence=(*stale_cites, *auth_cites, *evidence),
            priority=30,
            **credential_fixes.for_stale(template, stale[0]),
        )
    if auth_count:
        return _finding(
            model.Verdict.CAUSE,
            model.Confidence.MEDIUM,
            f"PostgreSQL rejects the client's password ({auth_count} failure(s)), and the Secret "
            "did not change after the pods started: the Secret and the role's password differ",
            evidence=(*auth_cites, *evidence),
            priority=35,
            **credential_fixes.for_wrong_password(ev, scope, template, auth, probes),
        )
    logs_seen = clues.has_logs(ev, pod_list)
    logs_cmd = credential_fixes.logs_command(template, pod_list)
    if stale:
        return _finding(
            model.Verdict.WARNING
            if logs_seen or ev.probes_of("postgres")
            else model.Verdict.INCONCLUSIVE,
            model.Confidence.MEDIUM,
            f"{credential_fixes.stale_summary(stale[0], 0)}; no authentication failure seen yet",
            evidence=(*stale_cites, *evidence),
            missing="" if logs_seen else f"client logs: {logs_cmd}",
            **credential_fixes.for_stale(template, stale[0]),
        )
    unseen = sorted(
        {r.name for r in env.references(template) if r.kind == "Secret"}
        - {objects.name(s) for s in ev.kind("Secret", ns)}
    )
    heard = logs_seen or bool(ev.probes_of("postgres"))
    if unseen:
        # Change times and key names without the values (-o yaml would print them).
        get = (
            f"kubectl get secret {' '.join(unseen)} -n {ns} -o custom-columns="
            "NAME:.metadata.name,CHANGED:.metadata.managedFields[*].time && "
            f"kubectl describe secret {' '.join(unseen)} -n {ns}"
        )
        gaps = [g for g in ev.gaps if "secret" in g.lower()]
        evidence.append(
            model.Cite(
                text=f"Secret(s) {', '.join(unseen)} not in the evidence"
                + (f" ({gaps[0]})" if gaps else "")
                + ": whether they changed after the pods started cannot be checked",
                source="evidence gaps" if gaps else "",
            )
        )
        return _finding(
            model.Verdict.RULED_OUT if heard else model.Verdict.INCONCLUSIVE,
            model.Confidence.MEDIUM if heard else model.Confidence.LOW,
            ("no authentication failure was found; " if heard else "")
            + f"Secret(s) {', '.join(unseen)} could not be read, so a rotation cannot be checked",
            evidence=tuple(evidence),
            missing=f"when the Secrets changed (these commands show no values): {get}"
            + ("" if heard else f"; client logs: {logs_cmd}"),
        )
    if not heard:
        evidence.append(
            model.Cite(
                text="no client logs and no postgres probe in the evidence: "
                "authentication failures cannot be ruled out"
            )
        )
    return _finding(
        model.Verdict.RULED_OUT,
        model.Confidence.HIGH if logs_seen or ev.probes_of("postgres") else model.Confidence.MEDIUM,
        "every Secret and key the client reads exists, none changed after the pods started, and "
        "no authentication failure was found",
        evidence=tuple(evidence),
        missing="" if logs_seen else f"client logs: {logs_cmd}",
    )


def _secret_lines(
    ev: evidence_model.Evidence, template: Mapping[str, Any], ns: str
) -> list[model.Cite]:
    out = []
    seen: set[str] = set()
    for ref in env.references(template):
        if ref.kind != "Secret" or ref.name in seen:
            continue
        seen.add(ref.name)
        secret = ev.get("Secret", ns, ref.name)
        if secret is None:
            continue
        changed, who = credential_facts.last_change(secret)
        when = f"; last written {credential_facts.iso(changed)} by {who}" if changed else ""
        out.append(
            model.Cite(
                text=f"{ref.describe()}: {credential_facts.describe_secret(secret)}{when}",
                source=objects.ref(secret),
            )
        )
    return out


def _first_per_source(found: list[clues.Clue], limit: int = 3) -> list[clues.Clue]:
    """The first line of each pod/container, so evidence stays short."""
    seen: set[str] = set()
    out = []
    for clue in found:
        where = clue.source.rsplit(":", 1)[0]
        if where not in seen:
            seen.add(where)
            out.append(clue)
    return out[:limit]


_KEY_TEXT = re.compile(r"FATAL:|ERROR:|password authentication|no pg_hba|28P01", re.IGNORECASE)


def _clean(line: str, width: int = 180) -> str:
    """A log line fit for a report: one line, passwords in DSNs or key=value pairs masked, and
    when too long, the part from the error text on."""
    text = " ".join(redact.log_line(line).split())
    if len(text) <= width:
        return text
    key = _KEY_TEXT.search(text)
    if key and key.start() > 0:
        text = "…" + text[key.start() :]
    return text if len(text) <= width else text[: width - 1] + "…"


def _finding(
    verdict: model.Verdict, confidence: model.Confidence, summary: str, **kwargs: Any
) -> model.Finding:
    return model.Finding(
        check=_ID,
        title="Database credentials",
        verdict=verdict,
        confidence=confidence,
        summary=summary,
        **kwargs,
    )
