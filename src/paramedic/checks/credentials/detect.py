"""Detectors of `credentials`: the client's credentials as the evidence shows them (`observe`),
then the first detector that decides: a missing reference, a rejection by PostgreSQL, a Secret
changed after the pods started, Secrets the evidence lacks, or all current.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from paramedic.checks import clues, model
from paramedic.checks.credentials import commands, facts, fixes, server_rejects
from paramedic.evidence import logscan, probes_file, redact
from paramedic.evidence import model as evidence_model
from paramedic.kube import env, objects, resolve

_AUTH_MEANINGS = ("auth-failed", "no-hba-entry")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """The client's credentials as the evidence shows them, before any verdict."""

    ev: evidence_model.Evidence
    scope: resolve.Scope
    template: Mapping[str, Any]
    ns: str
    pod_list: list[Mapping[str, Any]]
    evidence: tuple[model.Cite, ...]
    """One line per Secret the client reads (key names and digests only)."""
    missing: list[facts.Missing]
    auth: list[clues.Clue]
    probes: list[probes_file.ProbeResult]
    auth_cites: tuple[model.Cite, ...]
    hba: list[Any]
    stale: list[facts.Stale]
    logs_seen: bool

    @property
    def auth_count(self) -> int:
        return len(self.auth) + len(self.probes)

    @property
    def stale_cites(self) -> tuple[model.Cite, ...]:
        return tuple(fixes.stale_cite(s) for s in self.stale)

    @property
    def heard(self) -> bool:
        """Client logs or a postgres probe: an authentication failure would have shown."""
        return self.logs_seen or bool(self.ev.probes_of("postgres"))

    @property
    def logs_cmd(self) -> str:
        return commands.logs_command(self.template, self.pod_list)


def no_client(scope: resolve.Scope) -> model.Finding:
    return model.Finding(
        verdict=model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.LOW,
        summary=f"no pod or workload of {scope.source} in the evidence",
        missing=f"kubectl get deploy,pods -n {scope.namespace} -o yaml",
    )


def observe(ctx: model.Context, template: Mapping[str, Any]) -> Observed:
    ev, scope = ctx.evidence, ctx.scope
    ns = objects.namespace(template)
    pod_list = list(scope.source_pods)
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
    hba: list[Any] = [c for c in auth if c.meaning == "no-hba-entry"]
    hba += [p for p in probes if p.outcome == "no-hba-entry"]
    return Observed(
        ev=ev,
        scope=scope,
        template=template,
        ns=ns,
        pod_list=pod_list,
        evidence=tuple(_secret_lines(ev, template, ns)),
        missing=facts.missing_refs(ev, template, pod_list, ns),
        auth=auth,
        probes=probes,
        auth_cites=tuple(auth_cites),
        hba=hba,
        stale=facts.stale_reads(ev, template, pod_list, ns),
        logs_seen=clues.has_logs(ev, pod_list),
    )


def missing_reference(seen: Observed) -> model.Finding | None:
    """A Secret or key the workload references does not exist: no container can start."""
    if not seen.missing:
        return None
    first = seen.missing[0]
    return model.Finding(
        verdict=model.Verdict.CAUSE,
        confidence=model.Confidence.HIGH,
        summary=fixes.missing_summary(seen.template, first),
        evidence=(*first.cites, *seen.evidence),
        priority=model.Priority.CLUSTER,
        remedy=fixes.for_missing(seen.template, first),
    )


def rejected(seen: Observed) -> model.Finding | None:
    """PostgreSQL rejected the client: no pg_hba line, a rotated Secret, or another password."""
    if seen.hba:
        return model.Finding(
            verdict=model.Verdict.CAUSE,
            confidence=model.Confidence.HIGH,
            summary="PostgreSQL has no pg_hba.conf line for the client "
            f"({seen.auth_count} rejection(s))",
            evidence=(*seen.auth_cites, *seen.evidence),
            priority=model.Priority.EXTERNAL,
            remedy=server_rejects.for_hba(seen.ev, seen.scope, seen.hba[0]),
        )
    if seen.stale and seen.auth_count:
        return model.Finding(
            verdict=model.Verdict.CAUSE,
            confidence=model.Confidence.HIGH,
            summary=fixes.stale_summary(seen.stale[0], seen.auth_count),
            evidence=(*seen.stale_cites, *seen.auth_cites, *seen.evidence),
            priority=model.Priority.EXTERNAL,
            remedy=fixes.for_stale(seen.template, seen.stale[0]),
        )
    if not seen.auth_count:
        return None
    return model.Finding(
        verdict=model.Verdict.CAUSE,
        confidence=model.Confidence.MEDIUM,
        summary=f"PostgreSQL rejects the client's password ({seen.auth_count} failure(s)), and "
        "the Secret did not change after the pods started: the Secret and the role's password "
        "differ",
        evidence=(*seen.auth_cites, *seen.evidence),
        priority=model.Priority.CREDENTIAL,
        remedy=server_rejects.for_wrong_password(
            seen.ev, seen.scope, seen.template, seen.auth, seen.probes
        ),
    )


def stale_unseen(seen: Observed) -> model.Finding | None:
    """The Secret changed after the pods started, and no failure shows (yet)."""
    if not seen.stale:
        return None
    return model.Finding(
        verdict=model.Verdict.WARNING if seen.heard else model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.MEDIUM,
        summary=f"{fixes.stale_summary(seen.stale[0], 0)}; no authentication failure seen yet",
        evidence=(*seen.stale_cites, *seen.evidence),
        missing="" if seen.logs_seen else f"client logs: {seen.logs_cmd}",
        remedy=fixes.for_stale(seen.template, seen.stale[0]),
    )


def unread_secrets(seen: Observed) -> model.Finding | None:
    """Secrets the client reads that the evidence lacks: a rotation cannot be checked."""
    unseen = sorted(
        {
            r.name
            for r in env.references(seen.template)
            if r.kind == "Secret" and seen.ev.get("Secret", seen.ns, r.name) is None
        }
    )
    if not unseen:
        return None
    ns, heard = seen.ns, seen.heard
    # Change times and key names without the values (-o yaml would print them).
    get = (
        f"kubectl get secret {' '.join(unseen)} -n {ns} -o custom-columns="
        "NAME:.metadata.name,CHANGED:.metadata.managedFields[*].time && "
        f"kubectl describe secret {' '.join(unseen)} -n {ns}"
    )
    gaps = seen.ev.gaps_about("Secret", [ns])
    note = model.Cite(
        text=f"Secret(s) {', '.join(unseen)} not in the evidence"
        + (f" ({gaps[0]})" if gaps else "")
        + ": whether they changed after the pods started cannot be checked",
        source="evidence gaps" if gaps else "",
    )
    return model.Finding(
        verdict=model.Verdict.RULED_OUT if heard else model.Verdict.INCONCLUSIVE,
        confidence=model.Confidence.MEDIUM if heard else model.Confidence.LOW,
        summary=("no authentication failure was found; " if heard else "")
        + f"Secret(s) {', '.join(unseen)} could not be read, so a rotation cannot be checked",
        evidence=(*seen.evidence, note),
        missing=f"when the Secrets changed (these commands show no values): {get}"
        + ("" if heard else f"; client logs: {seen.logs_cmd}"),
    )


def all_current(seen: Observed) -> model.Finding:
    """Every Secret and key exists, none changed after the pods started, no failure seen."""
    note = (
        ()
        if seen.heard
        else (
            model.Cite(
                text="no client logs and no postgres probe in the evidence: "
                "authentication failures cannot be ruled out"
            ),
        )
    )
    return model.Finding(
        verdict=model.Verdict.RULED_OUT,
        confidence=model.Confidence.HIGH if seen.heard else model.Confidence.MEDIUM,
        summary="every Secret and key the client reads exists, none changed after the pods "
        "started, and no authentication failure was found",
        evidence=(*seen.evidence, *note),
        missing="" if seen.logs_seen else f"client logs: {seen.logs_cmd}",
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
        changed, who = facts.last_change(secret)
        when = f"; last written {facts.iso(changed)} by {who}" if changed else ""
        out.append(
            model.Cite(
                text=f"{ref.describe()}: {facts.describe_secret(secret)}{when}",
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


_KEY_TEXT = logscan.compile(
    r"FATAL:|ERROR:|password authentication|no pg_hba|28P01", ignore_case=True
)


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
