"""Wiring: build each service once per process (Lambda container or local server), lazily.

Heavy clients are created on first use, so a route that needs only the queue never builds
the translator or an HTTP session.
"""

from __future__ import annotations

import threading
from functools import cached_property, lru_cache

from .intake import Intake
from .queue import Queue, QueueMessage, open_queue
from .settings import Settings, load_settings
from .store import Store, open_store


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._drainer_lock = threading.Lock()
        self._drainer = None

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings)

    @cached_property
    def queue(self) -> Queue:
        return open_queue(self.settings)

    @cached_property
    def intake(self) -> Intake:
        return Intake(self.settings, self.store, self.queue)

    @cached_property
    def worker(self) -> "Worker":  # noqa: F821
        from .pipeline import Worker
        from .translation import Translator
        from .xapi.lrs import LrsClient

        return Worker(Translator(self.settings), LrsClient.from_settings(self.settings), self.store, self._fetchers())

    def _fetchers(self) -> dict:
        fetchers = {}
        if self.settings.credly_token and self.settings.credly_org_id:
            from .sources.credly_api import CredlyClient

            client = CredlyClient.from_settings(self.settings)
            fetchers["credly"] = lambda message: client.fetch_event(str(message.event_id))
        if self.settings.certifier_token:
            from .sources.certifier_api import CertifierClient

            certifier = CertifierClient.from_settings(self.settings)
            fetchers["certifier"] = lambda message: certifier.complete(message.body)
        return fetchers

    def drainer(self) -> "OutboxDrainer":  # noqa: F821
        """The local outbox drainer (QUEUE_BACKEND=local), built on first use."""
        with self._drainer_lock:
            if self._drainer is None:
                from .queue.local import LocalOutbox, OutboxDrainer

                outbox = self.queue
                assert isinstance(outbox, LocalOutbox), "the drainer needs QUEUE_BACKEND=local"
                self._drainer = OutboxDrainer(
                    outbox,
                    lambda messages: self.worker.process(messages).failed,
                    self._give_up,
                    batch_size=self.settings.worker_batch_size,
                    max_attempts=self.settings.queue_max_attempts,
                )
            return self._drainer

    def ensure_local_worker(self) -> None:
        """Under `chalice local` with LOCAL_WORKER=true the web process drains its own outbox."""
        if self.settings.local_worker and self.settings.queue_backend == "local":
            self.drainer().start()

    def handle_sqs_batch(self, records: list[dict]) -> dict:
        """The SQS worker function: the same Worker.process as the local drainer, answered as
        a partial batch response ({"batchItemFailures": [...]}) so one failure retries only itself."""
        from .queue.sqs import handle_records

        return handle_records(
            records,
            lambda messages: self.worker.process(messages).failed,
            self._give_up,
            max_attempts=self.settings.queue_max_attempts,
        )

    def _give_up(self, message: QueueMessage, reason: str, attempts: int) -> None:
        self.worker.dead_letter(message, f"gave up after {attempts} attempts: {reason}")
        self.store.increment({"dead_lettered": 1})


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(load_settings())
