"""Credential deliveries from the platforms' webhooks: authenticate, read, de-duplicate, queue.

What each platform's route checks and reads comes from the registry (platforms/*/webhook.py):
nothing here knows a vendor's fields.
"""

from __future__ import annotations

from .. import metrics
from ..platforms import platform, unset_settings, webhook_reader
from ..platforms.spec import DeliveryItem
from ..queue import QueueMessage
from ..secrets import reveal
from ..settings import Settings
from ..store import Store
from . import auth
from .enqueue import Enqueuer, Entry
from .http import Reply, answers_errors, not_configured, read_json, read_json_object
from .models import Error, Skipped


class WebhookIntake:
    def __init__(self, settings: Settings, store: Store, enqueuer: Enqueuer) -> None:
        self.settings = settings
        self.store = store
        self.enqueuer = enqueuer

    @answers_errors
    def receive(self, platform_name: str, credential: str | None, raw_body: bytes) -> Reply:
        """credential: what the platform authenticates with (path token, signature or Authorization)."""
        entry = platform(platform_name)
        webhook = entry.webhook
        assert webhook is not None, f"{platform_name} has no webhook route"
        secret = reveal(self.settings, webhook.secret.lower())
        if secret is None or unset_settings(self.settings, webhook.needs):
            return not_configured(" and ".join((webhook.secret, *webhook.needs)))
        if not auth.verify(webhook.auth, credential, secret, raw_body):
            return Reply(401, Error(error=auth.REFUSALS[webhook.auth]))
        body = read_json(raw_body) if webhook.many else read_json_object(raw_body)
        delivery = webhook_reader(entry.name)(body, self.settings)
        if delivery.skipped:
            self.store.increment({"skipped": 1})
            metrics.count("skipped", source=entry.name)
            return Reply(webhook.ack_status, Skipped(rule=delivery.skipped))
        entries = [Entry(_message(entry.name, item), item.key) for item in delivery.items]
        return self.enqueuer.accept(entries, accepted_status=webhook.ack_status)


def _message(source: str, item: DeliveryItem) -> QueueMessage:
    if item.events is not None:  # read once, here: the worker translates the events
        return QueueMessage(source=source, kind="event", body=list(item.events), event_id=item.event_id)
    return QueueMessage(source=source, kind="notification" if item.notification else "document",
                        body=item.body, event_id=item.event_id)
