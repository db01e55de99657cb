"""Container logs read live: the newest part of the `--since` window, within `limitBytes`.

The API's `limitBytes` keeps the *first* bytes of what it would send: asked for an hour of a
busy log with `sinceSeconds=3600&limitBytes=2MiB`, it answers the hour's oldest 2 MiB, and the
minutes of the incident (the end of the log) are what is cut off. So a log whose first answer
fills `limitBytes` is asked for again by `tailLines`: the API then starts that many lines from
the end of the window and stops at `limitBytes` as before. How many lines fit is estimated from
the first answer; if the newest lines are longer and the tail is cut too, it is asked for again
with a quarter of the lines (`TRIES` tail requests at most, all inside the run's deadline).
Every log that is not whole says so in a gap line: what part of the window was read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from paramedic import timeouts
from paramedic.evidence import layout, model, redact
from paramedic.gather import fetch, kubeapi, plan

TRIES = 3
"""Most tail requests per log (each with a quarter of the lines of the one before)."""
FIRST_SHARE = 0.9
"""The first tail asks for this share of the lines the oldest `limitBytes` held."""


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """One container's current or previous log."""

    namespace: str
    pod: str
    container: str
    previous: bool

    @property
    def key(self) -> model.LogKey:
        return (
            self.namespace,
            self.pod,
            layout.log_container(self.container, previous=self.previous),
        )

    @property
    def name(self) -> str:
        return f"{self.namespace}/{self.pod}/{self.container}"


class Reader:
    """The logs of one gathering: first requests in a wave of the caller's, then `newest`."""

    def __init__(self, fetcher: fetch.Fetcher, limits: timeouts.Timeouts) -> None:
        self.fetcher = fetcher
        self.limits = limits
        self.logs: dict[model.LogKey, tuple[str, ...]] = {}
        self._oldest: dict[Target, str] = {}
        """Logs over limitBytes: the whole lines of their first answer (the window's start)."""

    def first(
        self, groups: Iterable[Sequence[dict[str, Any]]]
    ) -> list[tuple[fetch.Request, Callable[[kubeapi.Reply | None], None]]]:
        """The first request for each log of these pods (plan.log_targets), with its handler."""
        found = []
        for group in groups:
            for ns, pod, container, previous in plan.log_targets(group):
                target = Target(ns, pod, container, previous)
                found.append((self.request(target), self.keep(target)))
        return found

    def request(self, target: Target, *, tail: int = 0) -> fetch.Request:
        query = [
            ("container", target.container),
            ("sinceSeconds", str(max(1, round(self.limits.log_since)))),
            ("limitBytes", str(self.limits.log_bytes)),
        ]
        if tail:
            query.append(("tailLines", str(tail)))
        if target.previous:
            query.append(("previous", "true"))
        newest = f"newest {tail} lines of " if tail else ""
        return fetch.Request(
            what=f"read {newest}{'previous ' if target.previous else ''}logs of {target.name}",
            path=f"/api/v1/namespaces/{target.namespace}/pods/{target.pod}/log",
            query=tuple(query),
            raw=True,
            missing_ok=target.previous,
            limit=self.limits.log_bytes,
        )

    def keep(self, target: Target) -> Callable[[kubeapi.Reply | None], None]:
        """The handler of `request(target)`: a whole window is kept, a cut one is asked again."""

        def handle(reply: kubeapi.Reply | None) -> None:
            if reply is None or not reply.ok:
                return
            if not self._cut(reply):
                self.logs[target.key] = redact.log_text(reply.text)
            else:
                self._oldest[target] = _whole_lines(reply.text)

        return handle

    def newest(self) -> None:
        """Ask for the newest lines of every log whose first answer was cut at limitBytes."""
        tails = {t: max(1, int(text.count("\n") * FIRST_SHARE)) for t, text in self._oldest.items()}
        for attempt in range(TRIES):
            if not tails or self.fetcher.left() <= 0:
                break
            asked = list(tails)
            replies = self.fetcher.wave([self.request(t, tail=tails[t]) for t in asked])
            for target, reply in zip(asked, replies, strict=True):
                if reply is None or not reply.ok:
                    del tails[target]  # the gap says why; the oldest part is kept below
                elif not self._cut(reply):
                    self._store(
                        target, reply.text, f"its newest {_lines(tails.pop(target))} were read"
                    )
                elif attempt + 1 == TRIES or tails[target] == 1:
                    self._store(
                        target,
                        _whole_lines(reply.text),
                        f"the start of its newest {_lines(tails.pop(target))} was read",
                    )
                else:
                    tails[target] = max(1, tails[target] // 4)
        for target, text in self._oldest.items():
            if target.key not in self.logs:
                self._store(target, text, "its oldest part was read (the newest could not be)")

    def _cut(self, reply: kubeapi.Reply) -> bool:
        return reply.truncated or len(reply.text.encode()) >= self.limits.log_bytes

    def _store(self, target: Target, text: str, read: str) -> None:
        self.logs[target.key] = redact.log_text(text)
        self.fetcher.gaps.append(
            model.Gap(
                "",
                target.namespace,
                f"log of {target.name} cut at {self.limits.log_bytes // 1024} KiB (limitBytes)"
                f" within --since {timeouts.duration_text(self.limits.log_since)}: only {read}",
            )
        )


def _whole_lines(text: str) -> str:
    """`text` without its last, unfinished line (the API cuts at a byte, not a line)."""
    return text[: text.rfind("\n") + 1]


def _lines(count: int) -> str:
    return "1 line" if count == 1 else f"{count:,} lines"
