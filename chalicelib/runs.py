"""Run records: every pull, import, reconcile and expiry sweep leaves its last run in the store
(start, end, outcome, counts, the error), so that `status` can say whether data flows.

A failed run is recorded too, with the exit code its command ends with; recording never hides
the run's own error (a store that cannot be written is logged, the run's error raised)."""

from __future__ import annotations

import argparse
import functools
import re
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from .errors import (
    EXIT_DEAD_LETTERS,
    EXIT_OUTSIDE_FAILURE,
    EXIT_USAGE,
    ConnectorError,
    OutsideFailure,
    PlatformAuthError,
)
from .observability import log
from .store import CountersAndFlags, Run, RunLog

FINISHED, STOPPED_EARLY, FAILED = "finished", "stopped early", "failed"
ERROR_CHARACTERS = 300
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL_USER = re.compile(r"(//)[^/\s@]+@")  # user:password@host in a URL


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def one_line(error: object) -> str:
    """An error as a run record keeps it: its first line, no e-mail address nor URL credentials, bounded."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    text = _EMAIL.sub("<email>", _URL_USER.sub(r"\1***@", lines[0]))  # credentials first: pw@host looks like an e-mail
    return text if len(text) <= ERROR_CHARACTERS else text[:ERROR_CHARACTERS] + "..."


def exit_code_of(error: BaseException) -> int:
    """What `python -m chalicelib` exits with for `error` (cli.main); 1 for an uncaught one, as Python."""
    if isinstance(error, OutsideFailure):
        return EXIT_OUTSIDE_FAILURE
    return EXIT_USAGE if isinstance(error, ConnectorError) else 1


@dataclass
class Tally:
    """What a run did so far: set by the command as it goes, read when the run ends."""

    source: str
    mode: str
    records: int = 0
    finished: bool = True
    exit_code: int = 0
    # This run's delivery figures (LocalDelivery.outcome), read at the end even after a failure.
    outcome: Callable[[], dict] | None = None

    def figures(self) -> tuple[int | None, int | None]:
        """(statements, dead letters) of the run; None where it only queued."""
        figures = self.outcome() if self.outcome else {}
        return figures.get("statements"), figures.get("dead_letters")


class RunRecords(RunLog, CountersAndFlags, Protocol):
    """Where a run is recorded, and the flags a refused run sets."""


@contextmanager
def recorded(store: RunRecords, source: str, mode: str) -> Iterator[Tally]:
    """Record the run of the block: its outcome from the tally, or failed with the block's error."""
    tally = Tally(source, mode)
    started = now_iso()
    try:
        yield tally
    except Exception as error:
        _save(store, started, tally, error)
        raise
    _save(store, started, tally, None)


def recorded_command(
    source: Callable[[argparse.Namespace], str], mode: Callable[[argparse.Namespace], str]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """A command handler whose run is recorded, with the exit code it returns; the handler finds
    the tally as `args.tally` (and may rename the source, e.g. to a CSV mapping's label)."""

    def wrap(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(handler)
        def run(args: argparse.Namespace) -> int:
            from .runtime import services

            with recorded(services().store, source(args), mode(args)) as tally:
                args.tally = tally
                tally.exit_code = handler(args)
            return tally.exit_code

        return run

    return wrap


def _save(store: RunRecords, started: str, tally: Tally, error: Exception | None) -> None:
    source, mode = tally.source, tally.mode
    try:
        statements, dead_letters = tally.figures()
    except Exception:  # the store failing is what stopped the run: its figures cannot be read
        statements, dead_letters = None, None
    if error is not None:
        outcome, code = FAILED, exit_code_of(error)
    else:
        outcome = FINISHED if tally.finished else STOPPED_EARLY
        code = tally.exit_code or (EXIT_DEAD_LETTERS if dead_letters else 0)
    run = Run(
        source,
        mode,
        started,
        now_iso(),
        outcome,
        code,
        tally.records,
        statements,
        dead_letters,
        one_line(error) if error is not None else None,
    )
    try:
        store.record_run(run)
        if isinstance(error, PlatformAuthError):  # flagged as the workers flag it: /health and status show it
            from .processing import auth_flag  # processing reads this module

            store.set_flag(auth_flag(error.platform or source), one_line(error))
    except Exception as failure:  # never hide the run's own error behind the record's
        log("run_not_recorded", source=source, mode=mode, error=type(failure).__name__)
        if error is None:
            raise


# A successful call is noted at most this often per credentials and process: a worker's every
# batch must not cost a store write.
VERIFIED_EVERY_SECONDS = 60.0
_noted: weakref.WeakKeyDictionary[CountersAndFlags, dict[str, float]] = weakref.WeakKeyDictionary()


def note_verified(store: CountersAndFlags, name: str) -> None:
    """A call with the credentials of flag `name` succeeded: remember when, cheaply."""
    noted, now = _noted.setdefault(store, {}), time.monotonic()
    if name in noted and now - noted[name] < VERIFIED_EVERY_SECONDS:
        return
    noted[name] = now
    store.set_verified(name, now_iso())
