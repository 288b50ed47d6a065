"""Credential deliveries from the platforms' webhooks: authenticate, read, de-duplicate, queue.

What each platform's route checks and reads comes from the registry (platforms/*/webhook.py):
nothing here knows a vendor's fields. A named connection (chalicelib/connections.py) has its own
route, checked with its own secret and settings; its messages name it as their source, its events
carry it, and its de-duplication keys are its own.
"""

from __future__ import annotations

from .. import metrics
from ..connections import Connection, connection, named_connections
from ..platforms import Platform, platform, stamped, unset_settings, webhook_reader
from ..platforms.spec import DeliveryItem
from ..queue import QueueMessage
from ..secrets import reveal
from ..settings import Settings
from ..store import CountersAndFlags
from . import auth
from .enqueue import Enqueuer, Entry
from .http import Reply, answers_errors, not_configured, read_json, read_json_object
from .models import Error, Skipped


class WebhookIntake:
    def __init__(self, settings: Settings, counters: CountersAndFlags, enqueuer: Enqueuer) -> None:
        self.settings = settings
        self.counters = counters
        self.enqueuer = enqueuer

    @answers_errors
    def receive(
        self, platform_name: str, credential: str | None, raw_body: bytes, connection_name: str | None = None
    ) -> Reply:
        """credential: what the platform authenticates with (path token, signature or Authorization);
        connection_name: the named connection whose route was called (None: the default one's)."""
        entry = platform(platform_name)
        webhook = entry.webhook
        assert webhook is not None, f"{platform_name} has no webhook route"
        account = self._account(entry, connection_name)
        if account is None:  # never lists the connections: the caller is not authenticated yet
            return Reply(404, Error(error=f"no {entry.title} connection by that name"))
        settings = account.settings
        secret = reveal(settings, webhook.secret.lower())
        if secret is None or unset_settings(settings, webhook.needs):
            return not_configured(_settings_named(account, (webhook.secret, *webhook.needs)))
        if not auth.verify(webhook.auth, credential, secret, raw_body):
            return Reply(401, Error(error=auth.REFUSALS[webhook.auth]))
        body = read_json(raw_body) if webhook.many else read_json_object(raw_body)
        delivery = webhook_reader(entry.name)(body, settings)
        if delivery.skipped:
            self.counters.increment({"skipped": 1})
            metrics.count("skipped", source=account.name)
            return Reply(webhook.ack_status, Skipped(rule=delivery.skipped))
        entries = [Entry(_message(account, item), _key(account, item.key)) for item in delivery.items]
        return self.enqueuer.accept(entries, accepted_status=webhook.ack_status)

    def _account(self, entry: Platform, name: str | None) -> Connection | None:
        """The connection whose route this is; None when no connection of the platform has that name."""
        if name is None:
            return connection(self.settings, entry.name)
        found = [c for c in named_connections(self.settings) if c.name == name and c.platform == entry.name]
        return found[0] if found else None


def _settings_named(account: Connection, names: tuple[str, ...]) -> str:
    settings = " and ".join(names)
    return settings if account.is_default else f"{settings} of connection {account.name} (CONNECTIONS)"


def _key(account: Connection, key: str) -> str:
    """A named connection's deliveries are de-duplicated among its own: two accounts may send the same id."""
    return key if account.is_default else f"{account.name}:{key}"


def _message(account: Connection, item: DeliveryItem) -> QueueMessage:
    """Its source is the connection (a platform's name for its default one), so the worker fetches
    and translates it with that connection's client and settings."""
    source = account.name
    if item.events is not None:  # read once, here: the worker translates the events
        named = None if account.is_default else account.name
        events = [stamped(event, named) for event in item.events]
        return QueueMessage(source=source, kind="event", body=events, event_id=item.event_id)
    return QueueMessage(
        source=source, kind="notification" if item.notification else "document", body=item.body, event_id=item.event_id
    )
