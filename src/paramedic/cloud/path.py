"""Which provider answers for a flow: the one whose evidence is in the bundle.

A bundle normally holds one provider's files; with several, the one whose inventory holds the
destination answers (a hybrid setup), and without any there is no answer at all (`None`), which
the checks report as *no cloud rules in the evidence*, never as allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from paramedic.cloud import aws, azure, gcp, model
from paramedic.evidence import model as evidence_model

Evaluator = Callable[[Iterable[evidence_model.CloudDocument], model.Flow], model.Answer]
EVALUATORS: dict[str, Evaluator] = {
    "aws": aws.evaluate,
    "gcp": gcp.evaluate,
    "azure": azure.evaluate,
}


def providers(docs: Iterable[evidence_model.CloudDocument]) -> list[str]:
    """The providers with documents, in a stable order."""
    present = {d.provider for d in docs}
    return [p for p in EVALUATORS if p in present]


def evaluate(docs: Iterable[evidence_model.CloudDocument], flow: model.Flow) -> model.Answer | None:
    docs = tuple(docs)
    answers = [EVALUATORS[p](docs, flow) for p in providers(docs)]
    if not answers:
        return None
    placed = [a for a in answers if not _unplaced(a)]
    return (placed or answers)[0]


def _unplaced(answer: model.Answer) -> bool:
    return any(
        s.decision is model.Decision.UNKNOWN and s.layer.startswith("destination")
        for s in answer.steps
    )
