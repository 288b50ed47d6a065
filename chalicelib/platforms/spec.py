"""What a platform folder declares to the registry: its adapter, API client, awards and webhook.

A platform's parts are found by fixed names in its folder and imported on first use, so listing
every platform costs a webhook's cold start nothing: only what a request needs is loaded.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..events import CredentialEvent

# (a delivery's body, its event id) -> the complete document, fetched from the platform's API
DetailsFetcher = Callable[[Any, "str | None"], Any]


@dataclass(frozen=True)
class DeliveryItem:
    body: Any
    key: str  # what a redelivery of this item repeats: the platform's event id, or a content hash
    event_id: str | None = None
    notification: bool = False  # only names the event: the worker fetches its details
    # The canonical events intake already read from body: queued instead of it, so the worker
    # does not parse the document a second time. None: the worker reads body.
    events: tuple[CredentialEvent, ...] | None = None


@dataclass(frozen=True)
class Delivery:
    """A webhook body as its platform reads it: what to queue, each with the key to de-duplicate on."""

    items: tuple[DeliveryItem, ...] = ()
    skipped: str | None = None  # a documented rule: acknowledged and counted, not queued


@dataclass(frozen=True)
class Webhook:
    """How the platform's webhook route authenticates and reads a delivery (webhook.py: read_delivery)."""

    auth: Literal["path_token", "signature", "bearer"]
    secret: str  # the setting (environment name) holding the shared secret
    needs: tuple[str, ...] = ()  # other settings the route cannot work without
    many: bool = False  # the body may be an array of documents
    ack_status: int = 202  # the status of an accepted delivery
    thin: bool = False  # deliveries only name their event: nothing arrives without the API settings


@dataclass(frozen=True)
class WebhookRoute:
    """The webhook route as GET /openapi.json documents it (webhook.py: ROUTE). Answers and
    security follow from the platform's Webhook; this holds what only the platform can say."""

    path: str
    connection_path: str  # the same route for a named connection (CONNECTIONS)
    operation_id: str
    summary: str
    description: str
    body: Any  # the model of the body the route reads: what a body must be to be read at all
    accepted: str  # what the acknowledging answer means
    refusals: tuple[tuple[int, str], ...] = ()  # the platform's own refusals: (status, when)
    security: tuple[str, dict[str, Any]] | None = None  # (name, OpenAPI security scheme); None: a path token


@dataclass(frozen=True)
class ExportColumn:
    """One column of a platform's CSV export, matched by header name (case and spaces ignored)."""

    name: str  # as the export spells it: the key of the cells given to ExportLayout.document
    field: str  # the document field it fills, as the adapter names it in an error (the row's reason)
    aliases: tuple[str, ...] = ()  # other spellings of the header the export is known to use
    required: bool = False  # a file whose header lacks it is refused before any row is read


@dataclass(frozen=True)
class ExportLayout:
    """A platform's CSV export: each row becomes the document its adapter parses, so a credential
    imported from CSV has the statement ids of the same credential pulled or webhooked."""

    title: str  # what the file is, for messages: "Credly badge export"
    columns: tuple[ExportColumn, ...]
    document: Callable[[dict[str, str]], Any]  # non-empty cells by column name -> the adapter's document


@dataclass(frozen=True)
class Platform:
    """One platform, as its folder platforms/<name>/ implements it:

    adapter.py   ADAPTER: class with from_settings(settings); parse(document) -> CredentialEvents
    api.py       CLIENT: class with from_settings(settings)          (when api_settings are given)
                 CLIENT.details(body, event_id) -> document          (when fetches_details)
    awards.py    AWARDS: class (client) -> AwardClient; credential_id(value) (when can_award)
    webhook.py   read_delivery(parsed body, settings) -> Delivery    (when webhook is given)
    pull.py      PULLER: class (client) -> pulling.Puller              (when pull modes are given)
    export.py    EXPORT: function (settings) -> ExportLayout           (when csv: its CSV export's layout)
    """

    name: str  # the folder, and the name in queue messages, rules files and statement ids
    title: str  # as users know it
    api_settings: tuple[str, ...] = ()  # what calling its API needs (environment names)
    fetches_details: bool = False  # some deliveries only name their event
    can_award: bool = False
    webhook: Webhook | None = None
    pull: tuple[str, ...] = ()  # the pull modes it supports: backfill, sync
    csv: bool = False  # its own CSV export can be imported (import-csv --platform)

    @property
    def has_api(self) -> bool:
        return bool(self.api_settings)

    @property
    def has_webhooks(self) -> bool:
        return self.webhook is not None

    def part(self, module: str, attribute: str) -> Any:
        return _part(f"{__package__}.{self.name}.{module}", attribute)


@functools.cache
def _part(module: str, attribute: str) -> Any:
    """Imported once: a webhook asks for its reader on every request."""
    return getattr(importlib.import_module(module), attribute)
