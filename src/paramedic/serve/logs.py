"""Structured logs: one JSON object per line on stderr (time, level, event, fields).

Only ids, names, states, durations and one-line errors are logged: never a request body, a
header value or anything read from a Secret (Secret values are digested before they leave the
gatherer, and the webhook logs labels only by alert name and fingerprint).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

LOGGER = logging.getLogger("paramedic.serve")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            doc["exception"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return json.dumps(doc, default=str)


def setup(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send paramedic's and uvicorn's logs to `stream` (stderr) as JSON lines."""
    # The records carry no source line, thread or process (the Logging HOWTO's "Optimization"):
    # finding the caller's frame was a tenth of a webhook request's logging cost.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("paramedic.serve", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def event(name: str, *, level: int = logging.INFO, **fields: Any) -> None:
    LOGGER.log(level, name, extra={"fields": fields})
