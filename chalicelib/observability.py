"""Structured logs in one place: one JSON object per line, never emails or tokens.

Callers pass identifiers (statement ids, event ids, counts), not payloads. Every line carries its
level, a UTC timestamp and what `bound` put in context: the Lambda request id, and the
correlation id that follows one delivery from its route through the queue to the LRS POST.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

_CONFIGURED = False
_CONTEXT: ContextVar[Mapping[str, object]] = ContextVar("log_context", default=MappingProxyType({}))
# What a caller's X-Request-Id / X-Amzn-Trace-Id may be to be kept as the correlation id: ids,
# not text (a header is the caller's to fill: nothing longer, and no spaces or quotes).
_CALLER_ID = re.compile(r"[A-Za-z0-9._:;=/+-]{1,128}")


def logger(name: str = "connector") -> logging.Logger:
    global _CONFIGURED
    if not _CONFIGURED:
        root = logging.getLogger("connector")
        if not root.handlers:
            handler = _LineHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            root.addHandler(handler)
        root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
        root.propagate = False
        _CONFIGURED = True
    return logging.getLogger(name if name.startswith("connector") else f"connector.{name}")


def log(event: str, level: int = logging.INFO, **fields: object) -> None:
    """Emit {"level", "timestamp", "event", **context, **fields} as one JSON line."""
    log_ = logger()
    if log_.isEnabledFor(level):
        line = {
            "level": logging.getLevelName(level),
            "timestamp": utc_timestamp(),
            "event": event,
            **_CONTEXT.get(),
            **fields,
        }
        log_.log(level, json.dumps(line, default=str, sort_keys=True))


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Every line logged inside the block (in this thread or task) carries these fields; None
    values are left out."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def correlation_id() -> str | None:
    """The correlation id bound for this request, if any (what a route's messages carry)."""
    value = _CONTEXT.get().get("correlation_id")
    return value if isinstance(value, str) else None


def caller_correlation_id(headers: Mapping[str, str] | None) -> str:
    """The caller's X-Request-Id or X-Amzn-Trace-Id when it looks like an id, else a new one."""
    for name in ("x-request-id", "x-amzn-trace-id"):
        value = (headers or {}).get(name)
        if value and _CALLER_ID.fullmatch(value.strip()):
            return value.strip()
    return str(uuid.uuid4())


def write_line(text: str) -> None:
    """A whole line on standard error, whatever LOG_LEVEL says (metrics: metrics.py)."""
    logger()  # configured: the same stream as the logs
    from . import console

    console.end_progress()
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class _LineHandler(logging.StreamHandler):
    """A log line never lands in the middle of a command's progress line (console.py)."""

    def emit(self, record: logging.LogRecord) -> None:
        from . import console

        console.end_progress()
        super().emit(record)
