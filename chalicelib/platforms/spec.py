"""What a platform folder declares to the registry: its adapter, API client, awards and webhook.

Parts are named as "module:attribute" inside the platform's package and imported on first use,
so listing every platform costs a webhook's cold start nothing: only what a request needs loads.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Literal

# (a delivery's body, its event id) -> the complete document, fetched from the platform's API
DetailsFetcher = Callable[[Any, "str | None"], Any]


@dataclass(frozen=True)
class DeliveryItem:
    body: Any
    event_id: str | None = None
    notification: bool = False  # only names the event: the worker fetches its details


@dataclass(frozen=True)
class Delivery:
    """A webhook body as its platform reads it: what to queue, and the id to de-duplicate on."""

    items: tuple[DeliveryItem, ...] = ()
    key: str | None = None  # the platform's delivery id; None: statement ids keep re-posts idempotent
    skipped: str | None = None  # a documented rule: acknowledged and counted, not queued


@dataclass(frozen=True)
class Webhook:
    """How the platform's webhook route authenticates and reads a delivery."""

    auth: Literal["path_token", "signature", "bearer"]
    secret: str  # the setting (environment name) holding the shared secret
    read: str  # function (parsed JSON body, settings) -> Delivery
    needs: tuple[str, ...] = ()  # other settings the route cannot work without
    many: bool = False  # the body may be an array of documents
    ack_status: int = 202  # the status of an accepted delivery
    thin: bool = False  # deliveries only name their event: nothing arrives without the API settings


@dataclass(frozen=True)
class Platform:
    name: str  # as in queue messages, rules files and statement ids: never renamed
    title: str  # as users know it
    package: str  # the platform's package: where the parts below are found
    adapter: str  # class with from_settings(settings): documents -> CredentialEvents
    api: str | None = None  # client class with from_settings(settings)
    api_settings: tuple[str, ...] = ()  # what calling its API needs (environment names)
    fetches_details: bool = False  # deliveries may only name an event: api client's details(body, event_id)
    awards: str | None = None  # class (api client) -> AwardClient
    credential_id: str | None = None  # function: a rules file's credential id, normalised (ValueError)
    webhook: Webhook | None = None

    @property
    def has_webhooks(self) -> bool:
        return self.webhook is not None

    @property
    def can_award(self) -> bool:
        return self.awards is not None

    def load(self, part: str) -> Any:
        module, _, attribute = part.partition(":")
        return getattr(importlib.import_module(f"{self.package}.{module}"), attribute)
