"""The worker: queue messages -> (fetch) -> translate -> LRS, with dead letters for what cannot go.

The same `Worker.process` runs under SQS in AWS and under the local outbox drainer. It returns
the messages to retry; everything else ended delivered, skipped by rule or dead-lettered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Protocol

from .errors import ConnectorError, DetailsRequired, PlatformAuthError
from .httpretry import TransientFailure
from .observability import log
from .queue import QueueMessage
from .sources import API_TOKEN_SETTINGS
from .store import Store
from .translation import Translation, Translator
from .xapi.lrs import DeliveryReport, LrsAuthError, LrsClient, LrsUnavailable

LRS_FLAG = "lrs"
MAX_REASON = 10_000


def auth_flag(platform: str) -> str:
    return f"{platform}_auth"


def clear_auth_flag(store: Store, platform: str) -> None:
    if auth_flag(platform) in store.flags():
        store.set_flag(auth_flag(platform), None)


class DocumentFetcher(Protocol):
    def __call__(self, message: QueueMessage) -> object:
        """The complete document for a message that only names its subject (authenticated fetch)."""


@dataclass
class BatchResult:
    failed: dict[str, str] = field(default_factory=dict)  # message id -> why it is retried
    counts: Counter = field(default_factory=Counter)


class Worker:
    def __init__(
        self,
        translator: Translator,
        lrs: LrsClient,
        store: Store,
        fetchers: dict[str, DocumentFetcher] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.translator = translator
        self.lrs = lrs
        self.store = store
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

    def dead_letter(self, message: QueueMessage, reason: str, counts: Counter | None = None) -> None:
        reason = reason[:MAX_REASON]  # one DynamoDB item holds at most 400 KB, message included
        self.store.put_dead_letter(message.id, message.source, reason, message.model_dump(mode="json"))
        log("dead_letter", message_id=message.id, source=message.source, reason=reason[:300])
        if counts is not None:
            counts["dead_lettered"] += 1

    # -- steps -------------------------------------------------------------------------------

    def _translate(self, message: QueueMessage, result: BatchResult) -> Translation | None:
        try:
            document = message.body if message.kind == "document" else self._fetch(message)
            try:
                return self.translator.translate(message.source, document, self.clock())
            except DetailsRequired:
                return self.translator.translate(message.source, self._fetch(message), self.clock())
        except TransientFailure as error:
            result.failed[message.id] = str(error)
        except PlatformAuthError as error:
            self.store.set_flag(auth_flag(message.source), str(error))
            self.dead_letter(message, str(error), result.counts)
        except ConnectorError as error:
            self.dead_letter(message, str(error), result.counts)
        except Exception as error:  # a bug on one message must not hold back its batch
            log("worker_error", message_id=message.id, error=type(error).__name__)
            self.dead_letter(message, f"internal error: {type(error).__name__}: {error}", result.counts)
        return None

    def _fetch(self, message: QueueMessage) -> object:
        fetch = self.fetchers.get(message.source)
        if fetch is None:
            needed = API_TOKEN_SETTINGS.get(message.source, "the platform's API token")
            raise ConnectorError(f"{message.source} details must be fetched from its API: set {needed}")
        document = fetch(message)
        clear_auth_flag(self.store, message.source)
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
            if LRS_FLAG in self.store.flags():
                self.store.set_flag(LRS_FLAG, None)
        except LrsAuthError as error:
            report, failure = getattr(error, "report", None) or DeliveryReport([], [], []), str(error)
            self.store.set_flag(LRS_FLAG, failure)
        except LrsUnavailable as error:
            report, failure = getattr(error, "report", None) or DeliveryReport([], [], []), str(error)
        result.counts["delivered"] += len(report.delivered)
        result.counts["already_stored"] += len(report.already_stored)
        settled = set(report.delivered) | set(report.already_stored)
        rejected = {statement["id"]: reason for statement, reason in report.rejected}
        for message_id, ids in owned.items():
            problems = [f"LRS rejected statement {sid}: {rejected[sid]}" for sid in ids if sid in rejected]
            if problems:
                self.dead_letter(messages[message_id], "; ".join(problems), result.counts)
            elif failure and not settled.issuperset(ids):
                result.failed[message_id] = failure
