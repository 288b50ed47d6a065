"""Delivery during a command (backfill, sync, expire, reconcile, import-csv) with the local outbox.

With QUEUE_BACKEND=local nobody else drains the outbox during a CLI run: the command delivers
while it reads the next page (at most PAGES_AHEAD pages ahead, so memory and the outbox stay
flat), and on leaving waits until everything it queued is settled. It stops loudly, never
silently longer: at once when the LRS refuses the connector's credentials or configuration, and
after `deadline` seconds without any progress when the LRS cannot be reached. What it queued
stays in the outbox either way, for the next run or `python -m chalicelib worker`.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..errors import ConnectorError, OutsideFailure
from ..httpretry import host_of
from ..store import LetterFilter

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from ..queue import Queue, QueueMessage
    from ..runtime import Services

# Pages a local pull reads ahead of delivery: enough to overlap reading with sending, bounded so
# memory and the outbox stay flat whatever the history's size.
PAGES_AHEAD = 2
# How long a command waits for an LRS that makes no progress (none delivered, none settled).
DEFAULT_DEADLINE_SECONDS = 120.0
POLL_SECONDS = 0.05
# Statement and message ids make every reason unique: grouped without them.
_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def add_deadline_option(parser: argparse.ArgumentParser) -> None:
    """The option of every command that delivers what it queues (QUEUE_BACKEND=local)."""
    parser.add_argument(
        "--deadline",
        type=_seconds,
        default=DEFAULT_DEADLINE_SECONDS,
        metavar="SECONDS",
        help="stop (exit 3) when the LRS makes no progress for this long; what was queued "
        f"stays in the outbox (default {DEFAULT_DEADLINE_SECONDS:g})",
    )
    parser.epilog = " ".join(filter(None, (parser.epilog, EXIT_STATUS)))


EXIT_STATUS = (
    "Exit status: 0 all delivered (or queued for the workers); 1 finished, with dead letters or bad rows of "
    "this run; 2 usage or configuration error; 3 stopped: the LRS or a platform refused the connector, "
    "stayed unreachable past the deadline, or answered endlessly (what was queued stays queued)."
)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"seconds between 0 and 86400, got {text!r}")
    return value


class DeliveryStopped(OutsideFailure):
    """The LRS refused the connector or stayed unreachable: the command stops, its work kept."""


class LocalDelivery:
    def __init__(self, connector: Services, enabled: bool = True, deadline: float = DEFAULT_DEADLINE_SECONDS) -> None:
        self.connector = connector
        self.active = enabled and connector.settings.queue_backend == "local"
        self.deadline = deadline
        self.before = connector.store.counters()
        # What the command queues goes through here: its dead letters, and only those, are this run's.
        self.queue = _Recorded(connector.queue)
        # Dead letters carry second-resolution times: this run's are those at or after its start.
        self.started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
        self._progress_at = time.monotonic()
        self._progress_mark: tuple[int, int] | None = None

    def __enter__(self) -> LocalDelivery:
        if self.active:
            self.connector.worker.watch.reset()
            self.connector.drainer().start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self.active:
            return
        try:
            if error is None:
                self._wait(lambda: self._depth() == 0)
        finally:
            self.connector.drainer().stop()

    def pace(self) -> None:
        """Called after queueing a page: read ahead, but not unboundedly."""
        if self.active:
            self._wait(lambda: self._depth() <= PAGES_AHEAD)

    def statements(self) -> int | None:
        """Statements delivered (or already in the LRS) since the command started; None: not delivering."""
        return sum(self.counts().values()) if self.active else None

    def counts(self) -> dict[str, int]:
        """What the LRS answered since the command started, by outcome."""
        after = self.connector.store.counters()
        return {k: after.get(k, 0) - self.before.get(k, 0) for k in ("delivered", "already_stored")}

    def dead_letters(self) -> Counter[str]:
        """This run's dead letters by reason (ids left out, so that alike reasons add up): those of
        the messages it queued, not those another worker settled meanwhile."""
        letters = self.connector.store.dead_letter_heads(LetterFilter(since=self.started_at))
        return Counter(reason_group(letter.reason) for letter in letters if letter.id in self.queue.sent)

    def outcome(self) -> dict:
        """This run's delivery figures for a command's summary; {} when the command only queues."""
        if not self.active:
            return {}
        reasons = self.dead_letters()
        counts = self.counts()
        return {
            **counts,
            "statements": sum(counts.values()),
            "dead_letters": sum(reasons.values()),
            "dead_letter_reasons": dict(reasons),
        }

    def _wait(self, done: Callable[[], bool]) -> None:
        while not done():
            self._check()
            time.sleep(POLL_SECONDS)

    def _check(self) -> None:
        """Raise DeliveryStopped when the LRS refuses us, or made no progress for `deadline` s."""
        watch = self.connector.worker.watch
        host = host_of(self.connector.settings.lrs_endpoint)
        where = f"LRS {host}"
        if watch.refused:
            named = watch.refused if host in watch.refused else f"{where}: {watch.refused}"
            raise DeliveryStopped(f"{named}; {self._kept()}")
        mark = (self._depth(), sum(self.connector.store.counters().values()))
        now = time.monotonic()
        if mark != self._progress_mark:
            self._progress_mark, self._progress_at = mark, now
        elif now - self._progress_at > self.deadline:
            cause = watch.failure or "no answer"
            raise DeliveryStopped(
                f"{where} made no progress for {self.deadline:g} s (--deadline): {cause}; {self._kept()}"
            )

    def _depth(self) -> int:
        """Messages in the outbox (a command delivers only with the local one, which always counts them)."""
        depth = self.connector.queue.depth()
        if depth is None:
            raise ConnectorError(
                "delivering during a command needs a queue that counts its messages (QUEUE_BACKEND=local)"
            )
        return depth

    def _kept(self) -> str:
        return (
            f"{self.connector.queue.depth()} message(s) kept in the outbox: run the command again "
            "or `python -m chalicelib worker` once it is fixed"
        )


class _Recorded:
    """A queue that remembers the ids of the messages sent through it (the rest is the queue's own)."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self.sent: set[str] = set()

    def send(self, message: QueueMessage) -> None:
        self._queue.send(message)
        self.sent.add(message.id)

    def send_many(self, messages: Sequence[QueueMessage]) -> None:
        self._queue.send_many(messages)
        self.sent.update(message.id for message in messages)

    def depth(self) -> int | None:
        return self._queue.depth()

    def __getattr__(self, name: str) -> object:
        return getattr(self._queue, name)


def reason_group(reason: str) -> str:
    """A dead letter's reason without its ids, so that alike reasons count together."""
    return _IDS.sub("<id>", reason)[:200]


def delivered_text(outcome: dict) -> str:
    """The summary's words for `outcome()`: what reached the LRS, or that workers will send it."""
    if not outcome:
        return " (queued for the workers)"
    text = f"; {outcome['delivered']:,} statement(s) delivered, {outcome['already_stored']:,} already stored"
    return (
        text + f", {outcome['dead_letters']:,} dead letter(s) (`deadletters list`)" if outcome["dead_letters"] else text
    )


def reason_lines(outcome: dict) -> list[str]:
    """One line per dead-letter reason of this run, the most frequent first."""
    reasons = sorted(outcome.get("dead_letter_reasons", {}).items(), key=lambda item: -item[1])
    return [f"dead letters: {count:,} x {reason}" for reason, count in reasons]
