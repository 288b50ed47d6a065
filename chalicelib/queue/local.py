"""The local durable outbox (SQLite) and the thread that drains it under `chalice local`.

It calls the same worker function as the SQS handler in AWS; leases stand in for SQS
visibility timeouts, so a crash mid-batch leaves messages to be picked up again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..observability import log
from ..sqlitedb import SqliteDb
from . import QueueMessage, ensure_fits

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL, leased_until REAL NOT NULL DEFAULT 0, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_available ON outbox (available_at);
"""


@dataclass(frozen=True)
class Leased:
    message: QueueMessage
    attempts: int  # deliveries so far, this one included


class LocalOutbox:
    def __init__(self, path: str) -> None:
        self.db = SqliteDb(path, SCHEMA)

    def check(self, message: QueueMessage) -> None:
        ensure_fits(message, len(message.model_dump_json().encode()))

    def send(self, message: QueueMessage) -> None:
        body = message.model_dump_json()
        ensure_fits(message, len(body.encode()))
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (id, body, available_at) VALUES (?, ?, ?)",
                (message.id, body, time.time()),
            )

    def receive(self, max_messages: int = 10, visibility_seconds: float = 60.0) -> list[Leased]:
        now = time.time()
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, body, attempts FROM outbox WHERE available_at <= ? AND leased_until <= ? "
                "ORDER BY available_at LIMIT ?",
                (now, now, max_messages),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET leased_until = ?, attempts = attempts + 1 WHERE id = ?",
                [(now + visibility_seconds, row[0]) for row in rows],
            )
        return [Leased(QueueMessage.model_validate_json(body), attempts + 1) for _, body, attempts in rows]

    def ack(self, *message_ids: str) -> None:
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in message_ids])

    def retry_later(self, message_id: str, delay_seconds: float, error: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET available_at = ?, leased_until = 0, last_error = ? WHERE id = ?",
                (time.time() + delay_seconds, error, message_id),
            )

    def depth(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM outbox")[0][0])


BatchHandler = Callable[[list[QueueMessage]], dict[str, str]]  # -> {failed message id: reason}


class OutboxDrainer:
    """Drains the outbox in a daemon thread: receive a batch, process, ack or retry with backoff.

    A message that keeps failing is handed to `give_up` (a dead letter) after `max_attempts`.
    """

    def __init__(
        self,
        outbox: LocalOutbox,
        handle: BatchHandler,
        give_up: Callable[[QueueMessage, str, int], None],
        *,
        batch_size: int = 10,
        max_attempts: int = 10,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        idle_wait: float = 0.2,
    ) -> None:
        self.outbox = outbox
        self.handle = handle
        self.give_up = give_up
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.idle_wait = idle_wait
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def drain_once(self) -> int:
        """Process one batch; return how many messages were received."""
        leased = self.outbox.receive(self.batch_size)
        if not leased:
            return 0
        try:
            failed = self.handle([item.message for item in leased])
        except Exception as error:  # a bug must not kill the thread: retry the batch later
            log("worker_crashed", error=type(error).__name__, detail=str(error)[:300])
            failed = {item.message.id: f"worker error: {type(error).__name__}" for item in leased}
        # One transaction for every message that went: per-message commits cost ~10% of a drain.
        self.outbox.ack(*(item.message.id for item in leased if item.message.id not in failed))
        for item in leased:
            if item.message.id in failed:
                self._settle_failure(item, failed[item.message.id])
        return len(leased)

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
        while time.monotonic() < deadline:
            if self.drain_once() == 0:
                if self.outbox.depth() == 0:
                    return
                time.sleep(self.idle_wait)

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
        while not self._stop.is_set():
            try:
                drained = self.drain_once()
            except Exception as error:  # e.g. the database locked by a CLI run: leases keep the work
                log("drainer_error", error=type(error).__name__, detail=str(error)[:200])
                drained = 0
            if drained == 0:
                self._stop.wait(self.idle_wait)
