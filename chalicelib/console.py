"""What a command prints on standard error: one progress line, rewritten in place, and whole
lines (bad rows, log lines, the final error) that never land in the middle of it."""

from __future__ import annotations

import sys
import threading

_lock = threading.Lock()
_open = 0  # width of the progress line on the terminal now; 0: none


def progress(text: str) -> None:
    """Rewrite the progress line."""
    global _open
    with _lock:
        sys.stderr.write("\r" + text.ljust(_open))
        sys.stderr.flush()
        _open = max(len(text), 1)


def line(text: str) -> None:
    """A whole line above the progress line (which the next progress() call draws again)."""
    with _lock:
        _end()
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def end_progress() -> None:
    """Close the progress line, if one is open, so that what follows starts on a line of its own."""
    with _lock:
        _end()


def _end() -> None:
    global _open
    if _open:
        sys.stderr.write("\n")
        _open = 0
