"""The fix of a cloud rule that drops the flow: the exact commands (`paramedic.cloud.commands`)
as fix steps, with how to verify each and how to undo it."""

from __future__ import annotations

from collections.abc import Sequence

from paramedic.checks import model
from paramedic.cloud import commands
from paramedic.cloud import model as cloud_model


def remedy(
    answers: Sequence[cloud_model.Answer], *, label: str, test: str, what: str
) -> model.Remedy:
    """`what` says what the commands open ('TCP 5432 to 10.0.3.30'); `test` is the connect test
    that shows it works afterwards."""
    cmds = commands.for_answers(answers, label=label)
    provider = answers[0].provider
    steps = tuple(
        model.FixStep(
            description=f"Allow it in {c.layer}:",
            language="shell",
            content=c.run,
            action={
                "op": "cloud-command",
                "provider": provider,
                "run": c.run,
                "verify": c.verify,
                "undo": c.undo,
            },
        )
        for c in cmds
    )
    return model.Remedy(
        fix=model.Fix(
            summary=f"allow {what} in the {provider} rules that drop it",
            steps=steps,
            rollback="\n".join(c.undo for c in cmds),
        ),
        why=" ".join(dict.fromkeys(c.why for c in cmds)),
        verify="\n".join([*(c.verify for c in cmds), f"{test}  # expect: open"]),
    )


def cites(answers: Sequence[cloud_model.Answer]) -> tuple[model.Cite, ...]:
    """One line per flow with its deciding layer; the whole path of the first denied one."""
    out = []
    shown = False
    for a in answers:
        step = a.deciding
        head = f"{a.provider} {a.flow}: {a.decision}"
        if step is None:
            last = a.steps[-1] if a.steps else None
            out.append(model.Cite(text=f"{head} ({last.rule if last else 'no layer'})"))
            continue
        out.append(
            model.Cite(
                text=f"{head} at {step.layer}: {step.rule or step.reason}", source=step.source
            )
        )
        if a.decision is cloud_model.Decision.DENY and not shown:
            shown = True
            out += [model.Cite(text=f"  {s.line()}", source=s.source) for s in a.steps]
    return tuple(out)
