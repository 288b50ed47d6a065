"""Claim a delivery id and queue its messages; a duplicate is acknowledged, not queued again."""

from __future__ import annotations

from ..observability import log
from ..queue import MessageTooLarge, Queue, QueueMessage
from ..store import Store
from .http import Reply


class Enqueuer:
    def __init__(self, store: Store, queue: Queue, dedupe_ttl_seconds: int) -> None:
        self.store = store
        self.queue = queue
        self.dedupe_ttl_seconds = dedupe_ttl_seconds

    def once(self, key: str | None, messages: list[QueueMessage], accepted_status: int = 202) -> Reply:
        if key and not self.store.claim_delivery(key, self.dedupe_ttl_seconds):
            self.store.increment({"duplicate_deliveries": 1})
            log("duplicate_delivery", key=key)
            return Reply(accepted_status, {"status": "duplicate"})
        sent = 0
        try:
            for message in messages:
                self.queue.send(message)
                sent += 1
        except Exception as error:
            if key:
                self.store.release_delivery(key)  # let the platform's retry try again
            log("enqueue_failed", key=key, error=type(error).__name__)
            if isinstance(error, MessageTooLarge):  # a retry cannot help: say so instead of 503
                return _too_large(error, sent, len(messages))
            return Reply(503, {"error": "could not queue the delivery; retry later"})
        ids = [m.id for m in messages]
        log("accepted", source=messages[0].source, messages=len(ids), key=key)
        return Reply(accepted_status, {"status": "accepted", "ids": ids})


def _too_large(error: MessageTooLarge, sent: int, total: int) -> Reply:
    where = f"document [{sent}]: " if total > 1 else ""
    # An array is queued in order: say what went, as re-posting it is safe (same statement ids).
    already = f"; the {sent} before it were queued" if sent else ""
    return Reply(413, {"error": f"{where}too large to queue: {error}{already}"})
