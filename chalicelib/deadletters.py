"""Dead letters: what could not be delivered or awarded, kept with its reason; written by both
workers, listed and replayed by operators (deterministic ids make a replay safe)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from . import metrics
from .observability import log
from .queue import QueueMessage
from .store import CountersAndFlags, DeadLetter, DeadLetterStore, DiscardedLetter

RETRY_LATER = "retry later: "  # a replay outcome: a transient failure, the letter is kept
MAX_REASON = 10_000  # one DynamoDB item holds at most 400 KB, message included


class DeadLettering(DeadLetterStore, CountersAndFlags, Protocol):
    """The dead letters, and the counters: a message the queue gives up on is counted (dispatch)."""


class DeadLetters:
    def __init__(self, store: DeadLettering) -> None:
        self.store = store

    def write(self, message: QueueMessage, reason: str, counts: Counter | None = None) -> None:
        reason = reason[:MAX_REASON]
        self.store.put_dead_letter(message.id, message.source, reason, message.model_dump(mode="json"))
        log(
            "dead_letter",
            level=logging.WARNING,
            message_id=message.id,
            source=message.source,
            reason=reason[:300],
            correlation_id=message.correlation_id,
        )
        metrics.count("dead_lettered", source=message.source)
        if counts is not None:
            counts["dead_lettered"] += 1


@dataclass
class ReplayOutcome:
    letter_id: str
    result: str  # delivered | dead-lettered again | retry later


class Outcome(Protocol):
    failed: dict[str, str]  # message id -> why it is retried


class Workers(Protocol):
    """What a replay needs: the store and the processing of both workers (runtime.Services)."""

    @property
    def store(self) -> DeadLetterStore: ...

    def process(self, messages: list[QueueMessage]) -> Outcome: ...


def replay(services: Workers, letters: list[DeadLetter]) -> list[ReplayOutcome]:
    """Send each dead letter's message through the workers again; remove the letters that went."""
    outcomes = []
    store = services.store
    for letter in letters:
        message = QueueMessage.model_validate(letter.message)
        before = letter.attempts
        result = services.process([message])  # LAP evidence goes to the award worker
        after = store.dead_letter(letter.id)
        if message.id in result.failed:
            outcomes.append(ReplayOutcome(letter.id, RETRY_LATER + result.failed[message.id]))
        elif after is not None and after.attempts > before:
            outcomes.append(ReplayOutcome(letter.id, f"dead-lettered again: {after.reason}"))
        else:
            store.delete_dead_letter(letter.id)
            outcomes.append(ReplayOutcome(letter.id, "delivered"))
    return outcomes


def discard(store: DeadLetterStore, letter_id: str, because: str) -> DiscardedLetter | None:
    """Remove a dead letter an operator gave up on, keeping its audit record; None when it is gone."""
    record = store.discard_dead_letter(letter_id, because)
    if record is not None:
        log(
            "dead_letter_discarded",
            message_id=record.id,
            source=record.source,
            reason=record.reason[:300],
            discard_reason=because[:300],
        )
    return record


def restore(store: DeadLetterStore, record: DiscardedLetter) -> DeadLetter:
    """Put a discarded letter back among the dead letters (an operator's discard undone): its
    source, reason and message as they were, its attempts counted afresh; the audit record stays."""
    letter = store.put_dead_letter(record.id, record.source, record.reason, record.message)
    log(
        "dead_letter_restored",
        message_id=record.id,
        source=record.source,
        reason=record.reason[:300],
        discarded_at=record.discarded_at,
    )
    return letter
