"""Which worker a queued message goes to: credential events to the delivery worker (-> LRS), LAP
evidence to the award worker; one result for the batch.

Evidence the award rules cannot take (AWARD_RULES unset or invalid) is dead-lettered, not retried:
it is kept for a replay once the rules are fixed. A message the queue gave up on (too many
attempts) is a dead letter too. The workers are built on first use, by the callables given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .deadletters import DeadLetters
from .errors import ConnectorError
from .processing import BatchResult
from .queue import QueueMessage

if TYPE_CHECKING:
    from .awards.worker import AwardWorker
    from .delivery.worker import PreparedBatch, Worker

# Queue sources that carry learning evidence for the award rules, not credential events.
LAP_SOURCES = ("lap", "lap-report")


def split(messages: list[QueueMessage]) -> tuple[list[QueueMessage], list[QueueMessage]]:
    """(LAP evidence, credential events), each in the order received."""
    evidence = [m for m in messages if m.source in LAP_SOURCES]
    events = [m for m in messages if m.source not in LAP_SOURCES]
    return evidence, events


class Dispatcher:
    def __init__(
        self, delivery: Callable[[], Worker], awards: Callable[[], AwardWorker], dead_letters: DeadLetters
    ) -> None:
        self.delivery = delivery
        self.awards = awards
        self.dead_letters = dead_letters

    def process(self, messages: list[QueueMessage]) -> BatchResult:
        evidence, events = split(messages)
        result = self.delivery().process(events) if events else BatchResult()
        return result.merge(self.award(evidence)) if evidence else result

    def process_failed(self, messages: list[QueueMessage]) -> dict[str, str]:
        """What the queues' handlers take: the ids of the messages to retry, with why."""
        return self.process(messages).failed

    def stage(self, messages: list[QueueMessage]) -> StagedBatch:
        """process() in halves for the pipelined local drainer: translate now, POST on the sender
        thread, settle (and run the award worker on LAP evidence) when the POSTs are answered."""
        evidence, events = split(messages)
        return StagedBatch(self, self.delivery().prepare(events) if events else None, evidence)

    def award(self, messages: list[QueueMessage]) -> BatchResult:
        try:
            return self.awards().process(messages)
        except ConnectorError as error:  # rules missing or invalid: keep the evidence
            result = BatchResult()
            for message in messages:
                self.dead_letters.write(message, str(error), result.counts)
            return result

    def give_up(self, message: QueueMessage, reason: str, attempts: int) -> None:
        self.dead_letters.write(message, f"gave up after {attempts} attempts: {reason}")
        self.dead_letters.store.increment({"dead_lettered": 1})


class StagedBatch:
    """One batch between stage() and its settling: the delivery half prepared, the evidence waiting."""

    def __init__(self, dispatcher: Dispatcher, delivery: PreparedBatch | None, evidence: list[QueueMessage]) -> None:
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.evidence = evidence

    def send(self, on_wire: Callable[[], None]) -> None:
        if self.delivery is not None:
            self.dispatcher.delivery().send(self.delivery, on_wire)

    def finish(self) -> dict[str, str]:
        delivery = self.delivery
        result = self.dispatcher.delivery().settle(delivery) if delivery is not None else BatchResult()
        if self.evidence:
            result.merge(self.dispatcher.award(self.evidence))
        return result.failed
