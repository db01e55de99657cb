"""The text files of a bundle besides its documents — container logs and gaps.txt — as evidence
lines, within the bundle's bounds (docs/BUNDLE.md, "Limits and errors").

A log keeps its last `MAX_LOG_BYTES`; its lines are capped and their credentials masked
(`redact.log_text`); all logs together may bring in `MAX_LOGS_BYTES`, and the logs past that are
named in one gap line instead of being read. gaps.txt keeps `MAX_GAPS` lines.
"""

from __future__ import annotations

from collections.abc import Callable

from paramedic.evidence import archive, layout, model, redact

MAX_LOG_BYTES = 2 * 1024 * 1024
"""Only the tail of a longer log file is kept."""
MAX_LOGS_BYTES = 64 * 1024 * 1024
"""Log bytes one bundle may bring in; the logs past it are named in a gap, not read."""
MAX_GAPS = 500
"""gaps.txt lines kept (each cut at MAX_GAP_CHARS); the rest is counted in one more line."""
MAX_GAP_CHARS = 500

Reader = Callable[[str], bytes | None]


def logs(read: Reader, names: list[str]) -> tuple[dict[model.LogKey, tuple[str, ...]], list[str]]:
    """Every log as evidence lines (`redact.log_text`: lines capped, credentials masked), up to
    MAX_LOGS_BYTES in all; the names of the logs past that."""
    logs: dict[model.LogKey, tuple[str, ...]] = {}
    skipped: list[str] = []
    total = 0
    for rel in names:
        key = layout.log_key(rel)
        if key is None:
            continue
        if total >= MAX_LOGS_BYTES:
            skipped.append(rel)
            continue
        content = (read(rel) or b"")[-MAX_LOG_BYTES:]
        total += len(content)
        logs[key] = redact.log_text(content.decode("utf-8", errors="replace"))
    return logs, skipped


def gap_lines(raw: bytes, *, where: str) -> list[str]:
    """gaps.txt as gap lines: at most MAX_GAPS, each at most MAX_GAP_CHARS long."""
    text = raw.decode("utf-8", errors="replace")
    gaps: list[str] = []
    extra = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if len(gaps) < MAX_GAPS:
            gaps.append(line if len(line) <= MAX_GAP_CHARS else line[: MAX_GAP_CHARS - 1] + "…")
        else:
            extra += 1
    if extra:
        gaps.append(f"{extra} more gaps in {where} not shown (the first {MAX_GAPS} are)")
    return gaps


def skipped_logs(names: list[str]) -> list[str]:
    """The gap line for the logs left unread, if any."""
    if not names:
        return []
    more = ", …" if len(names) > 3 else ""
    return [
        f"{len(names)} log files not read (a bundle may bring in "
        f"{archive.size(MAX_LOGS_BYTES)} of logs): {', '.join(names[:3])}{more}"
    ]
