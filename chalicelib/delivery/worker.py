"""The worker: queue messages -> (fetch) -> translate -> LRS, with dead letters for what cannot go.

The same work runs under SQS in AWS (`Worker.process`) and under the local outbox drainer, which
calls its three halves separately to overlap them across batches: `prepare` (fetch, translate,
encode) on the drainer thread, `send` (the POSTs) on its sender thread while the drainer thread
prepares the next batch, then `settle` (store, dead letters) back on the drainer thread. The
result names the messages to retry; everything else ended delivered, skipped by rule or
dead-lettered.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from .. import metrics
from ..deadletters import DeadLettering, DeadLetters
from ..errors import ConnectorError, DetailsRequired
from ..events import CredentialEvent
from ..observability import bound, log
from ..platforms import DetailsFetcher, details_settings
from ..processing import LRS_FLAG, BatchResult, auth_flag, clear_flag, settled_alone
from ..queue import QueueMessage
from ..store import ExpiryStore
from ..xapi.lrs import DeliveryReport, LrsAuthError, LrsClient, LrsUnavailable, Outgoing
from .delivered import DeliveredLog
from .expiry import remember_expiries
from .translation import Translation, Translator


@dataclass
class PreparedBatch:
    """One batch between its halves: translated (prepare), sent (send), settled (settle).

    The drainer prepares the next batch while this one's POST is in flight, so `send` touches
    only the LRS client: the outcome is kept here and applied to the store by `settle`."""

    messages: dict[str, QueueMessage]
    result: BatchResult  # what translation settled already (skipped, dead letters, retries)
    owned: dict[str, list[str]]  # message id -> its statement ids
    outgoing: Outgoing | None  # None: nothing to POST
    report: DeliveryReport | None = None
    failure: str | None = None  # why the unsettled statements' messages are retried
    auth_failure: bool = False
    events: dict[str, list[CredentialEvent]] = field(default_factory=dict)  # message id -> its events
    refused: set[str] = field(default_factory=set)  # messages dead-lettered for what the LRS refused
    # The delivered-statement log (delivered.py): the statements it holds, left out of `outgoing`,
    # and the whole batch in order (sent in full when the LRS lost what the log says it holds).
    known: list[dict] = field(default_factory=list)
    statements: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # known, checked, counted already stored unsent
    log_lost: bool = False
    log_generation: int = 0  # DeliveredLog.generation when `known` was read

    def logged(self) -> AbstractContextManager[None]:
        """The batch's lines (the LRS POST's too) name the correlation ids of its messages."""
        return bound(correlation_ids=correlation_ids(self.messages.values()))


@dataclass
class DeliveryWatch:
    """The LRS's latest answer, for a command delivering while it works (commands/local_delivery.py):
    `refused` stops it at once, `failure` says why it is still waiting."""

    refused: str | None = None  # the LRS refused our credentials or configuration
    failure: str | None = None  # the last transient failure, None once a send succeeded

    def reset(self) -> None:
        self.refused = self.failure = None


class DeliveryState(DeadLettering, ExpiryStore, Protocol):
    """The dead letters, the counters and the LRS and auth flags, the expiries of what went."""


class Worker:
    def __init__(
        self,
        translator: Translator,
        lrs: LrsClient,
        store: DeliveryState,
        fetchers: dict[str, DetailsFetcher] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        delivered: DeliveredLog | None = None,
    ) -> None:
        self.translator = translator
        self.lrs = lrs
        self.store = store
        self.dead_letters = DeadLetters(store)
        self.fetchers = fetchers or {}
        self.clock = clock
        self.watch = DeliveryWatch()
        self.delivered = delivered  # None: DELIVERY_LOG=false, every statement is POSTed

    def process(self, messages: list[QueueMessage]) -> BatchResult:
        """The three halves in a row (the SQS handler, drain_once); the local drainer overlaps them."""
        batch = self.prepare(messages)
        self.send(batch)
        return self.settle(batch)

    def prepare(self, messages: list[QueueMessage]) -> PreparedBatch:
        """Fetch and translate each message (each settled alone on failure); encode the POSTs."""
        with bound(correlation_ids=correlation_ids(messages)):
            return self._prepare(messages)

    def _prepare(self, messages: list[QueueMessage]) -> PreparedBatch:
        result = BatchResult()
        statements: dict[str, dict] = {}  # first occurrence wins: identical by construction
        owned: dict[str, list[str]] = {}
        events: dict[str, list[CredentialEvent]] = {}
        for message in messages:
            translation = self._translate(message, result)
            if translation is None:
                continue
            result.counts["skipped"] += len(translation.skipped)
            metrics.count("skipped", len(translation.skipped), message.source)
            owned[message.id] = [s["id"] for s in translation.statements]
            events[message.id] = translation.events
            for statement in translation.statements:
                statements.setdefault(statement["id"], statement)
        ordered = list(statements.values())
        known_ids = self.delivered.known(list(statements)) if self.delivered else set()
        fresh = [s for s in ordered if s["id"] not in known_ids]
        outgoing = self.lrs.prepare(fresh) if fresh else None
        return PreparedBatch(
            {m.id: m for m in messages},
            result,
            owned,
            outgoing,
            events=events,
            known=[s for s in ordered if s["id"] in known_ids],
            statements=ordered,
            log_generation=self.delivered.generation if self.delivered else 0,
        )

    def send(self, batch: PreparedBatch, on_wire: Callable[[], None] | None = None) -> None:
        """POST the batch's statements; only the LRS client is used (no store: another thread
        may be preparing the next batch). on_wire: see LrsClient.send."""
        if batch.outgoing is None and not batch.known:
            return
        with batch.logged():
            self._send(batch, on_wire)

    def _send(self, batch: PreparedBatch, on_wire: Callable[[], None] | None) -> None:
        try:
            outgoing = self._trusted(batch)
            batch.report = self.lrs.send(outgoing, on_wire=on_wire) if outgoing is not None else DeliveryReport()
        except LrsAuthError as error:
            batch.report, batch.failure, batch.auth_failure = error.report, str(error), True
        except LrsUnavailable as error:
            batch.report, batch.failure = error.report, str(error)
        except Exception as error:  # a bug while sending: what is unsettled is retried, nothing lost
            log("worker_error", level=logging.ERROR, stage="send", error=type(error).__name__, detail=str(error)[:300])
            batch.report, batch.failure = DeliveryReport(), f"internal error: {type(error).__name__}"
        assert batch.report is not None  # every branch above sets it
        batch.report.already_stored.extend(batch.skipped)

    def _trusted(self, batch: PreparedBatch) -> Outgoing | None:
        """What to POST: without the statements the log holds once the LRS shows it still holds
        one of them (they count as already stored), else the whole batch (delivered.py)."""
        if not batch.known or self.delivered is None:
            return batch.outgoing
        verdict = self.delivered.check([s["id"] for s in batch.known])
        if verdict == "held":
            batch.skipped = [s["id"] for s in batch.known]
            return batch.outgoing
        batch.log_lost = verdict == "lost"
        return self.lrs.prepare(batch.statements)

    def settle(self, batch: PreparedBatch) -> BatchResult:
        """Apply the LRS's answers: counters, flags, dead letters for refused statements, and the
        messages to retry (those whose statements were not all settled)."""
        result = batch.result
        with batch.logged():
            if batch.outgoing is not None or batch.known:
                self._settle_delivery(batch, result)
            self._remember_expiries(batch, result)
            self.store.increment({k: v for k, v in result.counts.items() if v})
            log(
                "batch_processed",
                level=logging.WARNING if result.counts["dead_lettered"] else logging.INFO,
                messages=len(batch.messages),
                retry=len(result.failed),
                **result.counts,
            )
        metrics.flush()
        return result

    # -- steps -------------------------------------------------------------------------------

    def _translate(self, message: QueueMessage, result: BatchResult) -> Translation | None:
        with (
            bound(correlation_id=message.correlation_id),
            settled_alone(message, result, self.dead_letters, self.store),
        ):
            if message.kind == "event":
                return self.translator.translate_event(message.body, self.clock())
            document = message.body if message.kind == "document" else self._fetch(message)
            try:
                return self.translator.translate(message.source, document, self.clock())
            except DetailsRequired:
                return self.translator.translate(message.source, self._fetch(message), self.clock())
        return None

    def _fetch(self, message: QueueMessage) -> object:
        fetch = self.fetchers.get(message.source)
        if fetch is None:
            needed = details_settings(message.source)
            raise ConnectorError(f"{message.source} details must be fetched from its API: set {needed}")
        document = fetch(message.body, message.event_id)
        clear_flag(self.store, auth_flag(message.source))
        return document

    def _remember_expiries(self, batch: PreparedBatch, result: BatchResult) -> None:
        """Only for what went: a message retried later remembers when it goes."""
        went = [
            event
            for message_id, events in batch.events.items()
            if message_id not in result.failed and message_id not in batch.refused
            for event in events
        ]
        remember_expiries(self.store, went, self.clock())

    def _settle_delivery(self, batch: PreparedBatch, result: BatchResult) -> None:
        if batch.report is None:  # never sent: nothing of it may be acknowledged
            batch.report, batch.failure = DeliveryReport(), batch.failure or "internal error: settled before sending"
        report, failure = batch.report, batch.failure
        if batch.auth_failure:
            self.store.set_flag(LRS_FLAG, failure)
            metrics.count("auth_failures", source=LRS_FLAG)
            self.watch.refused = failure
        elif failure is None:
            clear_flag(self.store, LRS_FLAG)
            self.watch.failure = None
        else:
            self.watch.failure = failure
        if self.delivered is not None:
            self.delivered.record(report, batch.skipped, batch.log_lost, batch.log_generation)
        result.counts["delivered"] += len(report.delivered)
        result.counts["already_stored"] += len(report.already_stored)
        _count_by_source(batch, report)
        settled = set(report.delivered) | set(report.already_stored)
        rejected = {statement["id"]: reason for statement, reason in report.rejected}
        for message_id, ids in batch.owned.items():
            problems = [f"LRS rejected statement {sid}: {rejected[sid]}" for sid in ids if sid in rejected]
            if problems:
                self.dead_letters.write(batch.messages[message_id], "; ".join(problems), result.counts)
                batch.refused.add(message_id)
            elif failure and not settled.issuperset(ids):
                result.failed[message_id] = failure


def correlation_ids(messages: Iterable[QueueMessage]) -> list[str] | None:
    ids = sorted({m.correlation_id for m in messages if m.correlation_id})
    return ids or None


def _count_by_source(batch: PreparedBatch, report: DeliveryReport) -> None:
    """The LRS's answers as metrics per source: a statement counts for the first message owning it."""
    source_of: dict[str, str] = {}
    for message_id, ids in batch.owned.items():
        for statement_id in ids:
            source_of.setdefault(statement_id, batch.messages[message_id].source)
    for name, settled in (("delivered", report.delivered), ("already_stored", report.already_stored)):
        for source, n in Counter(source_of.get(sid, "") for sid in settled).items():
            metrics.count(name, n, source or None)
