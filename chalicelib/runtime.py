"""Wiring: build each service once per process (Lambda container or local server), lazily.

Heavy clients are created on first use, so a route that needs only the queue never builds
the translator or an HTTP session. No platform names and no domain rules here: platforms come
from the registry, decisions from the workers.
"""

from __future__ import annotations

import threading
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Callable

from .deadletters import DeadLetters
from .intake.enqueue import Enqueuer
from .queue import Queue, QueueMessage, open_queue
from .settings import Settings, load_settings
from .store import Store, open_store

if TYPE_CHECKING:
    from .awards.worker import AwardWorker
    from .delivery.worker import PreparedBatch, Worker
    from .identity import LearnerDirectory
    from .intake.lap import LapIntake
    from .intake.webhooks import WebhookIntake
    from .platforms.awarding import AwardClient
    from .processing import BatchResult
    from .queue.local import OutboxDrainer
    from .share.credentials import CredentialResolver
    from .share.service import ShareLinks

# Queue sources that carry learning evidence for the award rules, not credential events.
LAP_SOURCES = ("lap", "lap-report")


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._drainer_lock = threading.Lock()
        self._worker_supervisor: "threading.Thread | None" = None
        self._drainer: "OutboxDrainer | None" = None
        self._award_clients: dict[str, "AwardClient"] = {}

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings)

    @cached_property
    def queue(self) -> Queue:
        return open_queue(self.settings)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.store)

    @cached_property
    def enqueuer(self) -> Enqueuer:
        return Enqueuer(self.store, self.queue, self.settings.dedupe_ttl_seconds)

    @cached_property
    def webhooks(self) -> "WebhookIntake":
        from .intake.webhooks import WebhookIntake

        return WebhookIntake(self.settings, self.store, self.enqueuer)

    @cached_property
    def lap(self) -> "LapIntake":
        from .intake.lap import LapIntake

        return LapIntake(self.settings, self.enqueuer)

    @cached_property
    def share_links(self) -> "ShareLinks":
        from .share.service import ShareLinks

        return ShareLinks(self.settings, self.store, self.queue, lambda: self.credential_resolver)

    @cached_property
    def credential_resolver(self) -> "CredentialResolver":
        """What a share link's credential is: its earned statement in the LRS (client built here, on first use)."""
        from .share.credentials import CredentialResolver

        return CredentialResolver.from_settings(self.settings, self.directory)

    @cached_property
    def directory(self) -> "LearnerDirectory":
        """Kept up to date with LEARNER_DIRECTORY (identity/sources.py); routes that only queue never build it."""
        from .identity.sources import live_directory

        return live_directory(self.settings, lambda run: self.store.record_run(run))  # type: ignore[return-value]

    @cached_property
    def worker(self) -> "Worker":
        from .delivery.translation import Translator
        from .delivery.worker import Worker
        from .platforms import details_fetchers
        from .xapi.lrs import LrsClient

        translator = Translator(self.settings, self.directory)
        fetchers = details_fetchers(self.settings)
        return Worker(translator, LrsClient.from_settings(self.settings), self.store, fetchers)

    @cached_property
    def award_worker(self) -> "AwardWorker":
        from .awards.rules import load_rules
        from .awards.worker import AwardWorker
        from .connections import award_connection
        from .errors import SettingsError

        if not self.settings.award_rules:
            raise SettingsError("AWARD_RULES is not set: LAP evidence cannot award anything")
        rules = load_rules(self.settings.award_rules)
        for rule in rules.rules:  # each names a connection that exists, of its credential's platform
            award_connection(self.settings, rule.credential.platform, rule.connection, rule.id)
        return AwardWorker(rules, self.store, self.directory, self._award_client, self.queue)

    def _award_client(self, connection: str) -> "AwardClient":
        """A platform's name (its default connection) or a named connection's: one client each."""
        from .platforms import award_client

        if connection not in self._award_clients:
            self._award_clients[connection] = award_client(connection, self.settings)
        return self._award_clients[connection]

    def process(self, messages: list[QueueMessage]) -> "BatchResult":
        """Credential events to the LRS worker, LAP evidence to the award worker; one result."""
        from .processing import BatchResult

        evidence = [m for m in messages if m.source in LAP_SOURCES]
        events = [m for m in messages if m.source not in LAP_SOURCES]
        result = self.worker.process(events) if events else BatchResult()
        return result.merge(self._award_batch(evidence)) if evidence else result

    def process_failed(self, messages: list[QueueMessage]) -> dict[str, str]:
        return self.process(messages).failed

    def stage(self, messages: list[QueueMessage]) -> "_StagedBatch":
        """process() in halves for the pipelined local drainer: translate now, POST on the sender
        thread, settle (and run the award worker on LAP evidence) when the POSTs are answered."""
        evidence = [m for m in messages if m.source in LAP_SOURCES]
        events = [m for m in messages if m.source not in LAP_SOURCES]
        return _StagedBatch(self, self.worker.prepare(events) if events else None, evidence)

    def _award_batch(self, messages: list[QueueMessage]) -> "BatchResult":
        from .errors import ConnectorError
        from .processing import BatchResult

        try:
            return self.award_worker.process(messages)
        except ConnectorError as error:  # rules missing or invalid: keep the evidence
            result = BatchResult()
            for message in messages:
                self.dead_letters.write(message, str(error), result.counts)
            return result

    def scheduled_sync(self, platform: str, seconds_left: float) -> dict:
        """One scheduled sync: pages until the function's time runs short, the rest next time."""
        import logging
        import time

        from . import metrics
        from .errors import OutsideFailure
        from .observability import log
        from .platforms import puller
        from .pull.runner import PullLimits, PullRunner, request_seconds, scheduled_settings
        from .runs import recorded

        # Tries cut so that a page timing out on every one still ends before the function does.
        settings = scheduled_settings(self.settings)
        deadline = time.monotonic() + max(0.0, seconds_left - request_seconds(settings))
        source = puller(platform, settings, "sync")
        runner = PullRunner(self.store, self.queue, PullLimits.from_settings(self.settings))
        try:
            with recorded(self.store, platform, "scheduled-sync") as tally:
                report = runner.run(platform, "sync", source, deadline=deadline)
                tally.records, tally.finished = report.records, report.finished
        except OutsideFailure as error:
            # Logged, not raised: Lambda would run a failed scheduled call again at once, into the
            # same endless pages or the same unreachable platform. The next scheduled run resumes.
            log("scheduled_sync_stopped", level=logging.ERROR, platform=platform, reason=str(error))
            return {"platform": platform, "mode": "sync", "finished": False, "stopped": str(error)}
        log("scheduled_sync", **report.as_dict())
        metrics.count("scheduled_sync_succeeded", source=platform)  # its alarm fires when this goes missing
        return report.as_dict()

    def scheduled_expiry_sweep(self, seconds_left: float) -> dict:
        """Queue the expired statements now due; what is left when time runs short, next time."""
        import time
        from datetime import datetime, timezone

        from .observability import log
        from .delivery.expiry import sweep
        from .runs import recorded

        deadline = time.monotonic() + max(0.0, seconds_left - 10.0)  # a queue send takes well under that
        with recorded(self.store, "expiry", "scheduled-expire") as tally:
            report = sweep(self.store, self.queue, datetime.now(timezone.utc), deadline)
            tally.records, tally.finished = report.expired, report.finished
        log("expiry_sweep", expired=report.expired, finished=report.finished)
        return {"expired": report.expired, "finished": report.finished}

    def drainer(self) -> "OutboxDrainer":
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
                    stage=self.stage,
                    batch_size=self.settings.worker_batch_size,
                    max_attempts=self.settings.queue_max_attempts,
                    visibility_seconds=self.settings.local_lease_seconds,
                )
            return self._drainer

    def ensure_local_worker(self) -> None:
        """Under `chalice local` with LOCAL_WORKER=true a worker process drains the outbox: started
        on the first request by a supervising thread, which starts it again should it end."""
        if not (self.settings.local_worker and self.settings.queue_backend == "local"):
            return
        with self._drainer_lock:
            if self._worker_supervisor is None:
                from .queue.worker_process import supervise

                self._worker_supervisor = supervise()

    def handle_sqs_batch(self, records: list[dict]) -> dict:
        """The SQS worker function: the same processing as the local drainer, answered as a
        partial batch response ({"batchItemFailures": [...]}) so one failure retries only itself."""
        from .queue.sqs import handle_records

        return handle_records(
            records,
            self.process_failed,
            self._give_up,
            max_attempts=self.settings.queue_max_attempts,
        )

    def _give_up(self, message: QueueMessage, reason: str, attempts: int) -> None:
        self.dead_letters.write(message, f"gave up after {attempts} attempts: {reason}")
        self.store.increment({"dead_lettered": 1})


class _StagedBatch:
    def __init__(self, services: Services, delivery: "PreparedBatch | None", evidence: list[QueueMessage]) -> None:
        self.services = services
        self.delivery = delivery
        self.evidence = evidence

    def send(self, on_wire: Callable[[], None]) -> None:
        if self.delivery is not None:
            self.services.worker.send(self.delivery, on_wire)

    def finish(self) -> dict[str, str]:
        from .processing import BatchResult

        result = self.services.worker.settle(self.delivery) if self.delivery is not None else BatchResult()
        if self.evidence:
            result.merge(self.services._award_batch(self.evidence))
        return result.failed


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(load_settings())
