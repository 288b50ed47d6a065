"""The local durable outbox (SQLite) and the thread that drains it under `chalice local`.

It calls the same worker function as the SQS handler in AWS; leases stand in for SQS
visibility timeouts, so a crash mid-batch leaves messages to be picked up again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import Protocol

from ..observability import log
from ..sqlitedb import SqliteDb
from . import QueueMessage, ensure_fits

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL, leased_until REAL NOT NULL DEFAULT 0, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_available ON outbox (available_at);
"""


_INSERT = "INSERT OR IGNORE INTO outbox (id, body, available_at) VALUES (?, ?, ?)"


def _body(message: QueueMessage, index: int) -> str:
    body = message.model_dump_json()
    ensure_fits(message, len(body.encode()), index)
    return body


# How often an idle drainer looks whether a message arrived: every 5 ms at first, then less often
# the longer nothing comes, down to every 40 ms: the bound on how long a message queued by a route
# waits before its delivery starts (the idle wait itself is 0.2 s). A look (a counter read and
# PRAGMA data_version, no table read) takes microseconds; waking up to take it costs more, so an
# idle worker wakes 25 times a second, not 200.
ARRIVAL_CHECK_SECONDS = 0.005
ARRIVAL_CHECK_MAX_SECONDS = 0.04


@dataclass(frozen=True)
class Arrivals:
    """Where the outbox stood: compared later to tell whether a message may have arrived since."""

    data_version: int  # moves when another connection (another process: chalice local) commits
    sent_here: int  # messages this LocalOutbox object queued (a drainer thread in the same process)


@dataclass(frozen=True)
class Leased:
    message: QueueMessage
    attempts: int  # deliveries so far, this one included


class LocalOutbox:
    def __init__(self, path: str) -> None:
        self.db = SqliteDb(path, SCHEMA)
        self._sent_here = 0
        self._arrival_interval = ARRIVAL_CHECK_SECONDS  # between looks while idle: see wait_for_arrival

    def send(self, message: QueueMessage) -> None:
        self.send_many([message])

    def send_many(self, messages: Sequence[QueueMessage]) -> None:
        now = time.time()
        rows = [(message.id, _body(message, index), now) for index, message in enumerate(messages)]
        if len(rows) == 1:  # a webhook's one message: its own transaction (a quarter of its enqueue)
            self.db.execute(_INSERT, rows[0])
        else:
            with self.db.transaction() as conn:  # an array's documents: all queued, or none
                conn.executemany(_INSERT, rows)
        self._sent_here += len(rows)

    def arrivals(self) -> Arrivals:
        return Arrivals(self.db.data_version(), self._sent_here)

    def wait_for_arrival(self, since: Arrivals, timeout: float, stop: threading.Event) -> None:
        """Return once a message may have arrived after `since` was taken (a commit by another
        connection counts: most are new messages), or when `stop` is set, or after `timeout`."""
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            # A sleep, not stop.wait: a timed wait allocates a lock each time; `stop` is still
            # seen within one interval.
            time.sleep(min(self._arrival_interval, max(0.0, deadline - time.monotonic())))
            self._arrival_interval = min(ARRIVAL_CHECK_MAX_SECONDS, self._arrival_interval * 2)
            try:
                arrived = self.arrivals() != since
            except sqlite3.Error:  # the file busy or gone a moment: the idle wait, as without the check
                stop.wait(max(0.0, deadline - time.monotonic()))
                return
            if arrived:
                self._arrival_interval = ARRIVAL_CHECK_SECONDS
                return
            if time.monotonic() >= deadline:
                return

    def receive(
        self, max_messages: int = 10, visibility_seconds: float = 60.0, max_bytes: int | None = None
    ) -> list[Leased]:
        """Lease up to max_messages ready messages, oldest first; with max_bytes, no more than
        that many bytes of bodies (the first message always)."""
        now = time.time()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "SELECT id, body, attempts FROM outbox WHERE available_at <= ? AND leased_until <= ? "
                "ORDER BY available_at LIMIT ?",
                (now, now, max_messages),
            )
            rows = cursor.fetchall() if max_bytes is None else _within(cursor, max_bytes)
            conn.executemany(
                "UPDATE outbox SET leased_until = ?, attempts = attempts + 1 WHERE id = ?",
                [(now + visibility_seconds, row[0]) for row in rows],
            )
        return [Leased(QueueMessage.model_validate_json(body), attempts + 1) for _, body, attempts in rows]

    def ack(self, *message_ids: str) -> None:
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in message_ids])

    def extend_lease(self, message_ids: list[str], visibility_seconds: float) -> None:
        """Keep leased messages invisible longer (a batch waiting behind a slow one)."""
        until = time.time() + visibility_seconds
        with self.db.transaction() as conn:
            conn.executemany("UPDATE outbox SET leased_until = ? WHERE id = ?", [(until, i) for i in message_ids])

    def retry_later(self, message_id: str, delay_seconds: float, error: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET available_at = ?, leased_until = 0, last_error = ? WHERE id = ?",
                (time.time() + delay_seconds, error, message_id),
            )

    def depth(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM outbox")[0][0])

    def oldest_received_at(self) -> str | None:
        """When the oldest message waiting was received (its received_at), None when none waits."""
        rows = self.db.query("SELECT MIN(json_extract(body, '$.received_at')) FROM outbox")
        return rows[0][0]


def _within(rows: Iterable[tuple[str, str, int]], max_bytes: int) -> list[tuple[str, str, int]]:
    """The leading rows whose bodies add up to at most max_bytes (the first one whatever its size);
    read one at a time, so that what is left over is not read."""
    taken: list[tuple[str, str, int]] = []
    size = 0
    for row in rows:
        size += len(row[1])
        if taken and size > max_bytes:
            break
        taken.append(row)
    return taken


# A local batch holds at most this much of message bodies. WORKER_BATCH_SIZE (LRS_BATCH_SIZE by
# default) messages fill a POST when each is a webhook's or an intake document's; pull and import
# pages (up to 256 KB, a hundred or more statements each) fill many, and this keeps what a batch
# holds in memory (twice: one batch in flight while the next is translated) near what ten did.
BATCH_BYTES = 1024 * 1024

# How long the drainer thread waits for the next batch's request to be written (normally well
# under a millisecond); a bound only, should a sender never signal.
WIRE_WAIT_SECONDS = 0.05

BatchHandler = Callable[[list[QueueMessage]], dict[str, str]]  # -> {failed message id: reason}


class StagedBatch(Protocol):
    """A batch handled in two halves, so the drainer can overlap them across batches."""

    def send(self, on_wire: Callable[[], None]) -> None:
        """The slow outbound half (the LRS POSTs), run on the sender thread, batches in order.
        Calls on_wire() once its first request is written and only the answer is awaited."""

    def finish(self) -> dict[str, str]:
        """Settle what send() got back, on the drainer thread: {failed message id: reason}."""


Stager = Callable[[list[QueueMessage]], StagedBatch]  # receive -> translate/encode: the first half


@dataclass
class _InFlight:
    leased: list[Leased]
    staged: StagedBatch | None = None
    sent: Future | None = None
    on_wire: threading.Event = field(default_factory=threading.Event)
    failed: dict[str, str] | None = None  # set when staging itself failed


class _Sender:
    """One daemon thread running submitted calls in order: one batch's POSTs at a time, so a
    voiding statement is never POSTed before the batch carrying its target has been answered."""

    def __init__(self) -> None:
        self._calls: SimpleQueue[tuple[Callable[[], None], Future] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], None]) -> Future:
        future: Future = Future()
        self._calls.put((call, future))
        return future

    def close(self) -> None:
        self._calls.put(None)

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            call, future = item
            try:
                future.set_result(call())
            except BaseException as error:  # handed to the drainer thread, which settles the batch
                future.set_exception(error)


class OutboxDrainer:
    """Drains the outbox in a daemon thread: receive a batch, process, ack or retry with backoff.

    With a `stage` function the drain is pipelined: while one batch's POSTs are in flight on a
    sender thread, this thread acknowledges the batch before it and receives and translates the
    next one. At most `pipeline_depth` batches are received and not yet settled; the sender
    POSTs them one after the other, in the order received. A message is acknowledged only once
    its batch is settled, so a crash at any point leaves it leased, to be delivered again.
    A message that keeps failing is handed to `give_up` (a dead letter) after `max_attempts`.
    A batch is `batch_size` messages (WORKER_BATCH_SIZE: LRS_BATCH_SIZE unless set, so that a
    POST is full when that many are waiting) and at most `batch_bytes` of their bodies.
    """

    def __init__(
        self,
        outbox: LocalOutbox,
        handle: BatchHandler,
        give_up: Callable[[QueueMessage, str, int], None],
        *,
        stage: Stager | None = None,
        pipeline_depth: int = 2,
        batch_size: int = 10,
        batch_bytes: int | None = BATCH_BYTES,
        max_attempts: int = 10,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        idle_wait: float = 0.2,
        visibility_seconds: float = 60.0,
    ) -> None:
        self.outbox = outbox
        self.handle = handle
        self.give_up = give_up
        self.stage = stage
        self.pipeline_depth = max(1, pipeline_depth)
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.idle_wait = idle_wait
        self.visibility_seconds = visibility_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _receive(self) -> list[Leased]:
        return self.outbox.receive(self.batch_size, self.visibility_seconds, self.batch_bytes)

    def drain_once(self) -> int:
        """Process one batch, start to finish; return how many messages were received."""
        leased = self._receive()
        if not leased:
            return 0
        try:
            failed = self.handle([item.message for item in leased])
        except Exception as error:  # a bug must not kill the thread: retry the batch later
            failed = _crashed(leased, error)
        self._settle(leased, failed)
        return len(leased)

    def drain_available(self, stopping: Callable[[], bool] = lambda: False, sender: _Sender | None = None) -> int:
        """Drain until nothing is ready and nothing is in flight (or `stopping()`); return how
        many messages were received. Pipelined with a `stage` function, else batch by batch."""
        if self.stage is None:
            total = 0
            while not stopping() and (received := self.drain_once()):
                total += received
            return total
        own_sender = sender is None
        sender = sender or _Sender()
        in_flight: deque[_InFlight] = deque()
        total = 0
        try:
            while True:
                leased = [] if stopping() else self._receive()
                if leased:
                    total += len(leased)
                    in_flight.append(self._start(leased, sender))
                if not in_flight:
                    return total
                if not leased or len(in_flight) >= self.pipeline_depth:
                    flight = in_flight.popleft()
                    self._finish(flight, in_flight[0] if in_flight else None)
        finally:
            while in_flight:  # also on the way out of an error: settle what was sent
                self._finish(in_flight.popleft())
            if own_sender:
                sender.close()

    def _start(self, leased: list[Leased], sender: _Sender) -> _InFlight:
        assert self.stage is not None
        try:
            staged = self.stage([item.message for item in leased])
        except Exception as error:
            return _InFlight(leased, failed=_crashed(leased, error))
        leased_at = time.time()
        ids = [item.message.id for item in leased]
        flight = _InFlight(leased, staged)

        def send() -> None:
            try:
                # Queued behind a batch whose POSTs are being retried: keep the lease meanwhile.
                if time.time() - leased_at > self.visibility_seconds / 2:
                    self.outbox.extend_lease(ids, self.visibility_seconds)
                staged.send(flight.on_wire.set)
            finally:
                flight.on_wire.set()

        flight.sent = sender.submit(send)
        return flight

    def _finish(self, flight: _InFlight, following: _InFlight | None = None) -> None:
        """Settle a batch once its POSTs are answered. `following`: the batch the sender takes up
        next; this thread waits until that one's request is written before its own CPU work
        (ack, dead letters, then translating the next batch), so the two threads do not contend
        for the GIL just when a request should reach the LRS."""
        failed = flight.failed
        if failed is None:
            assert flight.staged is not None and flight.sent is not None
            try:
                flight.sent.result()
                if following is not None and following.sent is not None:
                    following.on_wire.wait(WIRE_WAIT_SECONDS)
                failed = flight.staged.finish()
            except Exception as error:
                failed = _crashed(flight.leased, error)
        self._settle(flight.leased, failed)

    def _settle(self, leased: list[Leased], failed: dict[str, str]) -> None:
        # One transaction for every message that went: per-message commits cost ~10% of a drain.
        self.outbox.ack(*(item.message.id for item in leased if item.message.id not in failed))
        for item in leased:
            if item.message.id in failed:
                self._settle_failure(item, failed[item.message.id])

    def _settle_failure(self, item: Leased, error: str) -> None:
        message_id = item.message.id
        if item.attempts >= self.max_attempts:
            self.give_up(item.message, error, item.attempts)
            self.outbox.ack(message_id)
        else:
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (item.attempts - 1))
            self.outbox.retry_later(message_id, delay, error)

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Drain until nothing is ready (tests, CLI replays); waits out short retry delays."""
        deadline = time.monotonic() + timeout
        sender = _Sender() if self.stage is not None else None
        try:
            while time.monotonic() < deadline:
                self.drain_available(lambda: time.monotonic() >= deadline, sender)
                if self.outbox.depth() == 0:
                    return
                time.sleep(self.idle_wait)
        finally:
            if sender is not None:
                sender.close()

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-drainer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        self.run(self._stop)

    def run(self, stop: threading.Event) -> None:
        """Drain until `stop` is set, settling what is in flight: this drainer's thread, or the
        main loop of the local worker process (queue/worker_process.py)."""
        sender = _Sender() if self.stage is not None else None
        try:
            while not stop.is_set():
                try:
                    # Taken before looking: a message queued while this drain finds nothing ends the wait.
                    since = self.outbox.arrivals()
                    drained = self.drain_available(stop.is_set, sender)
                except Exception as error:  # e.g. the database locked by a CLI run: leases keep the work
                    log("drainer_error", error=type(error).__name__, detail=str(error)[:200])
                    stop.wait(self.idle_wait)
                    continue
                if drained == 0:
                    self.outbox.wait_for_arrival(since, self.idle_wait, stop)
        finally:
            if sender is not None:
                sender.close()


def _crashed(leased: list[Leased], error: Exception) -> dict[str, str]:
    """A bug must not kill the thread: the whole batch is retried later."""
    log("worker_crashed", error=type(error).__name__, detail=str(error)[:300])
    return {item.message.id: f"worker error: {type(error).__name__}" for item in leased}
