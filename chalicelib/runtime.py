"""Wiring: build each service once per process (Lambda container or local server), lazily.

Heavy clients are created on first use, so a route that needs only the queue never builds
the translator or an HTTP session. No platform names and no domain rules here: platforms come
from the registry, which worker a message goes to from dispatch.py, the scheduled runs from
scheduled.py, the local worker process from queue/worker_process.py.
"""

from __future__ import annotations

import threading
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from .queue import Queue, QueueMessage, open_queue
from .settings import Settings, load_settings
from .store import Store, open_store

if TYPE_CHECKING:
    from .awards.worker import AwardWorker
    from .deadletters import DeadLetters
    from .delivery.worker import Worker
    from .dispatch import Dispatcher
    from .identity import LearnerDirectory
    from .intake.enqueue import Enqueuer
    from .intake.lap import LapIntake
    from .intake.webhooks import WebhookIntake
    from .platforms.awarding import AwardClient
    from .processing import BatchResult
    from .queue.local import OutboxDrainer
    from .share.credentials import CredentialResolver
    from .share.service import ShareLinks


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._drainer_lock = threading.Lock()
        self._drainer: OutboxDrainer | None = None
        self._award_clients: dict[str, AwardClient] = {}

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings)

    @cached_property
    def queue(self) -> Queue:
        return open_queue(self.settings)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        from .deadletters import DeadLetters

        return DeadLetters(self.store)

    @cached_property
    def enqueuer(self) -> Enqueuer:
        from .intake.enqueue import Enqueuer

        return Enqueuer(self.store, self.queue, self.settings.dedupe_ttl_seconds)

    @cached_property
    def webhooks(self) -> WebhookIntake:
        from .intake.webhooks import WebhookIntake

        return WebhookIntake(self.settings, self.store, self.enqueuer)

    @cached_property
    def lap(self) -> LapIntake:
        from .intake.lap import LapIntake

        return LapIntake(self.settings, self.enqueuer)

    @cached_property
    def share_links(self) -> ShareLinks:
        from .share.service import ShareLinks

        return ShareLinks(self.settings, self.store, self.queue, lambda: self.credential_resolver)

    @cached_property
    def credential_resolver(self) -> CredentialResolver:
        """What a share link's credential is: its earned statement in the LRS (client built here, on first use)."""
        from .share.credentials import CredentialResolver

        return CredentialResolver.from_settings(self.settings, self.directory)

    @cached_property
    def directory(self) -> LearnerDirectory:
        """Kept up to date with LEARNER_DIRECTORY (identity/sources.py); routes that only queue never build it."""
        from .identity.sources import live_directory

        return live_directory(self.settings, lambda run: self.store.record_run(run))  # type: ignore[return-value]

    @cached_property
    def worker(self) -> Worker:
        from .delivery.delivered import DeliveredLog
        from .delivery.translation import Translator
        from .delivery.worker import Worker
        from .platforms import details_fetchers
        from .xapi.lrs import LrsClient

        translator = Translator(self.settings, self.directory)
        fetchers = details_fetchers(self.settings)
        lrs = LrsClient.from_settings(self.settings)
        delivered = DeliveredLog(self.store, lrs) if self.settings.delivery_log_on else None
        return Worker(translator, lrs, self.store, fetchers, delivered=delivered)

    @cached_property
    def award_worker(self) -> AwardWorker:
        from .awards.rules import configured_rules
        from .awards.worker import AwardWorker

        rules = configured_rules(self.settings)
        return AwardWorker(rules, self.store, self.directory, self._award_client, self.queue)

    def _award_client(self, connection: str) -> AwardClient:
        """A platform's name (its default connection) or a named connection's: one client each."""
        from .platforms import award_client

        if connection not in self._award_clients:
            self._award_clients[connection] = award_client(connection, self.settings)
        return self._award_clients[connection]

    @cached_property
    def dispatcher(self) -> Dispatcher:
        from .dispatch import Dispatcher

        return Dispatcher(lambda: self.worker, lambda: self.award_worker, self.dead_letters)

    def process(self, messages: list[QueueMessage]) -> BatchResult:
        return self.dispatcher.process(messages)

    def scheduled_sync(self, platform: str, seconds_left: float) -> dict:
        from .scheduled import sync

        return sync(self.settings, self.store, self.queue, platform, seconds_left)

    def scheduled_expiry_sweep(self, seconds_left: float) -> dict:
        from .scheduled import expiry_sweep

        return expiry_sweep(self.store, self.queue, seconds_left)

    def drainer(self) -> OutboxDrainer:
        """The local outbox drainer (QUEUE_BACKEND=local), built on first use."""
        with self._drainer_lock:
            if self._drainer is None:
                from .queue.local import LocalOutbox, OutboxDrainer

                outbox, dispatcher = self.queue, self.dispatcher
                assert isinstance(outbox, LocalOutbox), "the drainer needs QUEUE_BACKEND=local"
                self._drainer = OutboxDrainer(
                    outbox,
                    dispatcher.process_failed,
                    dispatcher.give_up,
                    stage=dispatcher.stage,
                    batch_size=self.settings.worker_batch_size,
                    max_attempts=self.settings.queue_max_attempts,
                    visibility_seconds=self.settings.local_lease_seconds,
                )
            return self._drainer

    def ensure_local_worker(self) -> None:
        """Under `chalice local` with LOCAL_WORKER=true a worker process drains the outbox: started
        on the first request by a supervising thread, which starts it again should it end."""
        if self.settings.local_worker and self.settings.queue_backend == "local":  # elsewhere not even imported
            from .queue.worker_process import ensure_supervised

            ensure_supervised()

    def handle_sqs_batch(self, records: list[dict]) -> dict:
        """The SQS worker function: the same processing as the local drainer, answered as a
        partial batch response ({"batchItemFailures": [...]}) so one failure retries only itself."""
        from .queue.sqs import handle_records

        dispatcher = self.dispatcher
        return handle_records(
            records, dispatcher.process_failed, dispatcher.give_up, max_attempts=self.settings.queue_max_attempts
        )


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(load_settings())
