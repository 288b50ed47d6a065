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

    @cached_property
    def award_worker(self) -> "AwardWorker":  # noqa: F821
        from .awards.clients import award_client_for
        from .awards.rules import load_rules
        from .awards.worker import AwardWorker
        from .errors import SettingsError

        if not self.settings.award_rules:
            raise SettingsError("AWARD_RULES is not set: LAP evidence cannot award anything")
        clients: dict = {}

        def client_for(platform: str):
            if platform not in clients:
                clients[platform] = award_client_for(platform, self.settings)
            return clients[platform]

        return AwardWorker(
            load_rules(self.settings.award_rules),
            self.store,
            self.worker.translator.resolver.directory,
            client_for,
            lambda message, reason, result: self.worker.dead_letter(message, reason, result.counts),
            on_awarded=self._issued_after_award,
        )

    def _issued_after_award(self, rule, learner, response: dict, at) -> None:
        """Platforms without webhooks never tell us about the award: queue their answer as the
        issued event, so it is translated and delivered like a synced one (same statement id)."""
        platform = rule.credential.platform
        if platform not in PLATFORMS_WITHOUT_WEBHOOKS:
            return
        body = response
        if platform == "badgr" and not isinstance(response.get("badgeclass"), dict):
            body = {**response, "badgeclass": {"entityId": rule.credential.id, "name": rule.name}}
        self.queue.send(QueueMessage(source=platform, body=body))

    def process(self, messages: list[QueueMessage]) -> "BatchResult":  # noqa: F821
        """Credential events to the LRS worker, LAP evidence to the award worker; one result."""
        evidence = [m for m in messages if m.source in LAP_SOURCES]
        events = [m for m in messages if m.source not in LAP_SOURCES]
        result = self.worker.process(events) if events else None
        if evidence:
            awards = self._award_batch(evidence)
            if result is None:
                return awards
            result.failed.update(awards.failed)
            result.counts.update(awards.counts)
        return result

    def process_failed(self, messages: list[QueueMessage]) -> dict[str, str]:
        return self.process(messages).failed

    def _award_batch(self, messages: list[QueueMessage]) -> "BatchResult":  # noqa: F821
        from .errors import ConnectorError
        from .pipeline import BatchResult

        try:
            return self.award_worker.process(messages)
        except ConnectorError as error:  # rules missing or invalid: keep the evidence
            result = BatchResult()
            for message in messages:
                self.worker.dead_letter(message, str(error), result.counts)
            return result

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
                    self.process_failed,
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
            self.process_failed,
            self._give_up,
            max_attempts=self.settings.queue_max_attempts,
        )

    def _give_up(self, message: QueueMessage, reason: str, attempts: int) -> None:
        self.worker.dead_letter(message, f"gave up after {attempts} attempts: {reason}")
        self.store.increment({"dead_lettered": 1})


LAP_SOURCES = ("lap", "lap-report")
PLATFORMS_WITHOUT_WEBHOOKS = ("badgr", "accredible")


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(load_settings())
