"""Structured logs in one place: one JSON object per line, never emails or tokens.

Callers pass identifiers (statement ids, event ids, counts), not payloads.
"""

from __future__ import annotations

import json
import logging
import os
import sys

_CONFIGURED = False


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
    """Emit {"event": ..., **fields} as one JSON line."""
    log_ = logger()
    if log_.isEnabledFor(level):
        log_.log(level, json.dumps({"event": event, **fields}, default=str, sort_keys=True))



class _LineHandler(logging.StreamHandler):
    """A log line never lands in the middle of a command's progress line (console.py)."""

    def emit(self, record: logging.LogRecord) -> None:
        from . import console

        console.end_progress()
        super().emit(record)
