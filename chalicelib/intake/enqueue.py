"""Queue what a delivery carries, then remember its ids: a redelivery is acknowledged, not queued.

Nothing is marked seen before it is durably queued: a process dying between the two steps
leaves an unmarked delivery, whose retry is queued again (harmless: statement ids are
deterministic and awards go through the ledger), never a mark without a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..observability import log
from ..queue import MessageTooLarge, Queue, QueueMessage
from ..store import Store
from .http import Reply
from .models import Accepted, AcceptedCounted, Duplicate, Error


@dataclass(frozen=True)
class Entry:
    message: QueueMessage
    key: str | None = None  # the delivery's id for de-duplication; None: queued every time


class Enqueuer:
    def __init__(self, store: Store, queue: Queue, dedupe_ttl_seconds: int) -> None:
        self.store = store
        self.queue = queue
        self.dedupe_ttl_seconds = dedupe_ttl_seconds

    def accept(self, entries: list[Entry], accepted_status: int = 202, itemised: bool = False) -> Reply:
        """itemised: the answer always lists ids and counts duplicates (one answer for many items)."""
        fresh = [e for e in entries if not (e.key and self.store.delivery_seen(e.key))]
        duplicates = len(entries) - len(fresh)
        if duplicates:
            self.store.increment({"duplicate_deliveries": duplicates})
            log("duplicate_delivery", duplicates=duplicates, items=len(entries))
        if not fresh and not itemised:
            return Reply(accepted_status, Duplicate())
        refusal = self._too_large(entries, fresh)
        if refusal:
            return refusal
        try:
            for entry in fresh:
                self.queue.send(entry.message)
        except Exception as error:  # nothing is marked seen: the platform's retry queues it again
            log("enqueue_failed", error=type(error).__name__)
            return Reply(503, Error(error="could not queue the delivery; retry later"))
        self._mark_seen(fresh)
        ids = [e.message.id for e in fresh]
        if fresh:
            log("accepted", source=fresh[0].message.source, messages=len(ids))
        if itemised or duplicates:
            return Reply(accepted_status, AcceptedCounted(ids=ids, duplicates=duplicates))
        return Reply(accepted_status, Accepted(ids=ids))

    def _too_large(self, entries: list[Entry], fresh: list[Entry]) -> Reply | None:
        """Checked for every item before any is queued: a retry cannot help, so 413, not 503."""
        for entry in fresh:
            try:
                self.queue.check(entry.message)
            except MessageTooLarge as error:
                where = f"document [{entries.index(entry)}]: " if len(entries) > 1 else ""
                return Reply(413, Error(error=f"{where}too large to queue: {error}; nothing was queued"))
        return None

    def _mark_seen(self, entries: list[Entry]) -> None:
        for entry in entries:
            if not entry.key:
                continue
            try:
                if not self.store.claim_delivery(entry.key, self.dedupe_ttl_seconds):
                    log("concurrent_duplicate_queued", key=entry.key)  # harmless: same statement ids
            except Exception as error:  # queued already: the answer stays a success
                log("delivery_mark_failed", error=type(error).__name__)
