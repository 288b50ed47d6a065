"""Queue what a delivery carries, then remember its ids: a redelivery is acknowledged, not queued.

Nothing is marked seen before it is durably queued: a process dying between the two steps
leaves an unmarked delivery, whose retry is queued again (harmless: statement ids are
deterministic and awards go through the ledger), never a mark without a message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from .. import metrics
from ..observability import correlation_id, log
from ..queue import MessageTooLarge, Queue, QueueMessage
from ..store import CountersAndFlags, DeliveryLog
from .http import Reply
from .models import Accepted, AcceptedCounted, Duplicate, Error


@dataclass(frozen=True)
class Entry:
    message: QueueMessage
    key: str | None = None  # the delivery's id for de-duplication; None: queued every time


class DeliveryClaims(DeliveryLog, CountersAndFlags, Protocol):
    """What the enqueuer uses: the delivery log, and the counters (duplicates are counted)."""


class Enqueuer:
    def __init__(self, store: DeliveryClaims, queue: Queue, dedupe_ttl_seconds: int) -> None:
        self.store = store
        self.queue = queue
        self.dedupe_ttl_seconds = dedupe_ttl_seconds

    def accept(self, entries: list[Entry], accepted_status: int = 202, itemised: bool = False) -> Reply:
        """itemised: the answer always lists ids and counts duplicates (one answer for many items)."""
        entries = [_correlated(e) for e in entries]
        keys = [e.key for e in entries if e.key]
        seen = self.store.seen_deliveries(keys) if keys else set()
        fresh = [e for e in entries if not (e.key and e.key in seen)]
        duplicates = len(entries) - len(fresh)
        if duplicates:
            self.store.increment({"duplicate_deliveries": duplicates})
            metrics.count("duplicate_deliveries", duplicates, entries[0].message.source)
            log("duplicate_delivery", duplicates=duplicates, items=len(entries))
        if not fresh and not itemised:
            return Reply(accepted_status, Duplicate())
        try:
            self.queue.send_many([entry.message for entry in fresh])
        except MessageTooLarge as error:  # checked for every item before any is queued
            return _too_large(error, entries, fresh)
        except Exception as error:  # nothing is marked seen: the platform's retry queues it again
            log("enqueue_failed", level=logging.ERROR, error=type(error).__name__)
            return Reply(503, Error(error="could not queue the delivery; retry later"))
        self._mark_seen(fresh)
        ids = [e.message.id for e in fresh]
        if fresh:
            metrics.count("accepted", len(ids), fresh[0].message.source)
            log("accepted", source=fresh[0].message.source, messages=len(ids))
        if itemised or duplicates:
            return Reply(accepted_status, AcceptedCounted(ids=ids, duplicates=duplicates))
        return Reply(accepted_status, Accepted(ids=ids))

    def _mark_seen(self, entries: list[Entry]) -> None:
        keys = [entry.key for entry in entries if entry.key]
        if not keys:
            return
        try:
            claimed = self.store.claim_deliveries(keys, self.dedupe_ttl_seconds)
        except Exception as error:  # queued already: the answer stays a success
            log("delivery_mark_failed", level=logging.WARNING, error=type(error).__name__)
            return
        for key in keys:
            if key not in claimed:
                log("concurrent_duplicate_queued", key=key)  # harmless: same statement ids


def _correlated(entry: Entry) -> Entry:
    """The message carries the request's correlation id, for the worker's lines about it."""
    current = correlation_id()
    if current is None or entry.message.correlation_id is not None:
        return entry
    return Entry(entry.message.model_copy(update={"correlation_id": current}), entry.key)


def _too_large(error: MessageTooLarge, entries: list[Entry], fresh: list[Entry]) -> Reply:
    """A retry cannot help, so 413, not 503."""
    where = f"document [{entries.index(fresh[error.index])}]: " if len(entries) > 1 else ""
    return Reply(413, Error(error=f"{where}too large to queue: {error}; nothing was queued"))
