"""The `network-policy` finding against the pod-versus-node probe contrast (checks.vantage).

The engine evaluates the policies it models; the probes measure what happened. A labelled probe
pod that fails where its node (a hostNetwork pod, which no NetworkPolicy selects) connects is a
policy layer dropping the pod's traffic: it confirms a block the engine found, and it contradicts
"allowed" (a layer not modelled here: a CNI's own policy, a mesh), which is then inconclusive
with what to read. The other contrasts are cited, never used to rule a policy out.
"""

from __future__ import annotations

import dataclasses

from paramedic.checks import model, vantage
from paramedic.kube import objects

NOT_MODELLED = (
    "the policy layers that select the source pods and are not evaluated here: "
    "kubectl get networkpolicies,ciliumnetworkpolicies,ciliumclusterwidenetworkpolicies -A; "
    "and the node's own drop log (cilium monitor --type drop, hubble observe --verdict DROPPED, "
    "or the CNI's policy logs)"
)


def with_contrast(ctx: model.Context, finding: model.Finding) -> model.Finding:
    db_nodes = {str(objects.spec(p).get("nodeName") or "") for p in ctx.scope.target_pods}
    seen = vantage.read(ctx.evidence, db_nodes - {""})
    if seen is None:
        return finding
    cites = (*finding.evidence, model.Cite(text=seen.summary), *seen.cites)
    details = {**finding.details, "probe_contrast": str(seen.layer)}
    if seen.layer is not vantage.Layer.POLICY:
        return dataclasses.replace(finding, evidence=cites, details=details)
    if finding.verdict is model.Verdict.CAUSE:
        return dataclasses.replace(
            finding, evidence=cites, details=details, confidence=model.Confidence.HIGH
        )
    if finding.verdict is model.Verdict.RULED_OUT:
        return model.Finding(
            verdict=model.Verdict.INCONCLUSIVE,
            confidence=model.Confidence.MEDIUM,
            summary=f"the policies evaluated here allow this flow, but {seen.summary}: a policy "
            "layer not evaluated here likely drops it",
            evidence=cites,
            missing=NOT_MODELLED,
            details=details,
        )
    return dataclasses.replace(finding, evidence=cites, details=details)
