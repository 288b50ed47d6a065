"""The worker: queue messages -> (fetch) -> translate -> LRS, with dead letters for what cannot go.

The same `Worker.process` runs under SQS in AWS and under the local outbox drainer. It returns
the messages to retry; everything else ended delivered, skipped by rule or dead-lettered.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from ..deadletters import DeadLetters
from ..errors import ConnectorError, DetailsRequired
from ..observability import log
from ..platforms import DetailsFetcher, details_settings
from ..processing import LRS_FLAG, BatchResult, auth_flag, clear_flag, settled_alone
from ..queue import QueueMessage
from ..store import Store
from ..xapi.lrs import LrsAuthError, LrsClient, LrsUnavailable
from .translation import Translation, Translator


class Worker:
    def __init__(
        self,
        translator: Translator,
        lrs: LrsClient,
        store: Store,
        fetchers: dict[str, DetailsFetcher] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.translator = translator
        self.lrs = lrs
        self.store = store
        self.dead_letters = DeadLetters(store)
        self.fetchers = fetchers or {}
        self.clock = clock

    def process(self, messages: list[QueueMessage]) -> BatchResult:
        result = BatchResult()
        statements: dict[str, dict] = {}  # first occurrence wins: identical by construction
        owned: dict[str, list[str]] = {}  # message id -> its statement ids
        for message in messages:
            translation = self._translate(message, result)
            if translation is None:
                continue
            result.counts["skipped"] += len(translation.skipped)
            owned[message.id] = [s["id"] for s in translation.statements]
            for statement in translation.statements:
                statements.setdefault(statement["id"], statement)
        if statements:
            self._deliver(list(statements.values()), owned, {m.id: m for m in messages}, result)
        self.store.increment({k: v for k, v in result.counts.items() if v})
        log("batch_processed", messages=len(messages), retry=len(result.failed), **result.counts)
        return result

    # -- steps -------------------------------------------------------------------------------

    def _translate(self, message: QueueMessage, result: BatchResult) -> Translation | None:
        with settled_alone(message, result, self.dead_letters, self.store):
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

    def _deliver(
        self,
        statements: list[dict],
        owned: dict[str, list[str]],
        messages: dict[str, QueueMessage],
        result: BatchResult,
    ) -> None:
        failure: str | None = None
        try:
            report = self.lrs.send(statements)
            clear_flag(self.store, LRS_FLAG)
        except LrsAuthError as error:
            report, failure = error.report, str(error)
            self.store.set_flag(LRS_FLAG, failure)
        except LrsUnavailable as error:
            report, failure = error.report, str(error)
        result.counts["delivered"] += len(report.delivered)
        result.counts["already_stored"] += len(report.already_stored)
        settled = set(report.delivered) | set(report.already_stored)
        rejected = {statement["id"]: reason for statement, reason in report.rejected}
        for message_id, ids in owned.items():
            problems = [f"LRS rejected statement {sid}: {rejected[sid]}" for sid in ids if sid in rejected]
            if problems:
                self.dead_letters.write(messages[message_id], "; ".join(problems), result.counts)
            elif failure and not settled.issuperset(ids):
                result.failed[message_id] = failure
