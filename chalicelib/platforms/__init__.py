"""The registry: every platform the connector speaks, and the one place that lists them.

Shared machinery (intake, workers, /health, awards, CLI) knows platforms only through these
functions. Adding a platform is one folder (see spec.Platform for what it holds) plus one entry
in PLATFORMS below.

Where a function takes a platform's name it takes a named connection's too (chalicelib/connections.py):
the part is built with that connection's settings, so each account has its own client (its own
credentials and pace), and the events its adapter reads carry the connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import PlatformAuthError, SettingsError
from ..events import CredentialEvent
from .common import SourceAdapter, require_settings, unset_settings
from .spec import Delivery, DeliveryItem, DetailsFetcher, ExportColumn, ExportLayout, Platform, Webhook, WebhookRoute

if TYPE_CHECKING:
    from ..settings import Settings
    from .awarding import AwardClient
    from .pulling import Puller

PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(
            "credly",
            "Credly",
            api_settings=("CREDLY_ORG_ID", "CREDLY_TOKEN"),
            fetches_details=True,
            can_award=True,
            pull=("backfill", "sync"),
            csv=True,
            # Credly retries anything but 200 for days: every accepted outcome answers 200.
            webhook=Webhook("path_token", "CREDLY_WEBHOOK_TOKEN", needs=("CREDLY_ORG_ID",), ack_status=200, thin=True),
        ),
        Platform(
            "certifier",
            "Certifier",
            api_settings=("CERTIFIER_TOKEN",),
            fetches_details=True,
            can_award=True,
            webhook=Webhook("signature", "CERTIFIER_WEBHOOK_SECRET"),
            pull=("backfill", "sync"),
        ),
        Platform("openbadges", "Open Badges", webhook=Webhook("bearer", "OPENBADGES_INGEST_TOKEN", many=True)),
        Platform(
            "badgr",
            "Canvas Credentials",
            api_settings=("BADGR_USERNAME", "BADGR_PASSWORD"),
            can_award=True,
            pull=("backfill", "sync"),
            csv=True,
        ),
        Platform(
            "accredible",
            "Accredible",
            api_settings=("ACCREDIBLE_API_KEY",),
            can_award=True,
            pull=("backfill", "sync"),
            csv=True,
        ),
    )
}

__all__ = [
    "PLATFORMS",
    "ConnectionAdapter",
    "Delivery",
    "DeliveryItem",
    "DetailsFetcher",
    "ExportColumn",
    "ExportLayout",
    "Platform",
    "SourceAdapter",
    "Webhook",
    "WebhookRoute",
    "account",
    "adapter_for",
    "api_client",
    "award_client",
    "award_credential_id",
    "awarding_platforms",
    "csv_layout",
    "csv_platforms",
    "details_fetchers",
    "details_settings",
    "names",
    "platform",
    "platform_titles",
    "puller",
    "pulling_platforms",
    "stamped",
    "unset_settings",
    "webhook_reader",
    "webhook_routes",
    "webhook_settings",
]


def names() -> list[str]:
    return sorted(PLATFORMS)


def platform_titles() -> dict[str, str]:
    """Registry name -> the name users know (it appears in statements: never change one)."""
    return {p.name: p.title for p in PLATFORMS.values()}


def platform(name: str) -> Platform:
    if name not in PLATFORMS:
        raise ValueError(f"unknown platform {name!r}; one of: {', '.join(names())}")
    return PLATFORMS[name]


def account(name: str, settings: Settings) -> tuple[Platform, Settings, str | None]:
    """A platform's name (its default connection) or a named connection's: the platform, the
    settings to build its parts with, and the connection's name (None for a default one)."""
    if name in PLATFORMS:
        return PLATFORMS[name], settings, None
    from ..connections import connection

    found = connection(settings, name)
    return PLATFORMS[found.platform], found.settings, found.name


def adapter_for(name: str, settings: Settings) -> SourceAdapter:
    entry, own, named = account(name, settings)
    adapter = entry.part("adapter", "ADAPTER").from_settings(own)
    return ConnectionAdapter(adapter, named) if named else adapter


class ConnectionAdapter:
    """A platform's adapter for a named connection: its events name the connection."""

    def __init__(self, adapter: SourceAdapter, connection: str) -> None:
        self.adapter = adapter
        self.connection = connection

    def parse(self, document: object) -> list:
        return [stamped(item, self.connection) for item in self.adapter.parse(document)]


def stamped(item: Any, connection: str | None) -> Any:
    """An event read for a named connection, marked with it (anything else as it is)."""
    if connection is None or not isinstance(item, CredentialEvent):
        return item
    return item.model_copy(update={"connection": connection})


def api_client(name: str, settings: Settings, purpose: str | None = None) -> Any:
    """The platform's (or connection's) API client; SettingsError naming each setting it needs
    that is not set."""
    entry, own, named = account(name, settings)
    if not entry.has_api:
        raise SettingsError(f"{entry.title} has no API the connector calls")
    what = purpose or f"calling {entry.title}'s API"
    require_settings(own, entry.api_settings, f"{what} (connection {named})" if named else what)
    return entry.part("api", "CLIENT").from_settings(own)


def awarding_platforms() -> tuple[str, ...]:
    """The platforms a rule can award on, in registry order."""
    return tuple(p.name for p in PLATFORMS.values() if p.can_award)


def award_client(name: str, settings: Settings) -> AwardClient:
    """The award client of a platform (its default connection) or of a named connection."""
    entry = account(name, settings)[0]
    if entry.name not in awarding_platforms():
        raise SettingsError(f"cannot award on {name!r}: one of {', '.join(sorted(awarding_platforms()))}")
    return entry.part("awards", "AWARDS")(api_client(name, settings, f"awarding on {name}"))


def award_credential_id(name: str, value: str) -> str:
    """A rules file's credential id for the platform, normalised; ValueError says why not."""
    return platform(name).part("awards", "credential_id")(value)


def pulling_platforms(mode: str) -> list[str]:
    return [p.name for p in PLATFORMS.values() if mode in p.pull]


def puller(name: str, settings: Settings, mode: str) -> Puller:
    """The platform's (or connection's) puller for `mode`; SettingsError when it cannot pull that
    way or misses a setting."""
    entry = account(name, settings)[0]
    if mode not in entry.pull:
        able = ", ".join(pulling_platforms(mode)) or "none"
        raise SettingsError(f"{name} has no {mode}: platforms with one: {able}")
    return entry.part("pull", "PULLER")(api_client(name, settings, f"pulling from {name}"))


def csv_platforms() -> list[str]:
    """The platforms whose own CSV export import-csv reads, in registry order."""
    return [p.name for p in PLATFORMS.values() if p.csv]


def csv_layout(name: str, settings: Settings) -> ExportLayout:
    """The layout of the platform's (or connection's platform's) CSV export; SettingsError when it
    has none the connector reads."""
    entry, own, _ = account(name, settings)
    if entry.name not in csv_platforms():
        raise SettingsError(
            f"no CSV export layout for {name!r}: one of {', '.join(csv_platforms())} (any other layout: --mapping FILE)"
        )
    return entry.part("export", "EXPORT")(own)


def webhook_reader(name: str) -> Callable[[Any, Settings], Delivery]:
    return platform(name).part("webhook", "read_delivery")


def webhook_routes() -> list[tuple[Webhook, WebhookRoute]]:
    """Each webhook route as GET /openapi.json documents it, in registry order."""
    return [(p.webhook, p.part("webhook", "ROUTE")) for p in PLATFORMS.values() if p.webhook]


def details_fetchers(settings: Settings) -> dict[str, DetailsFetcher]:
    """For each configured connection (a platform's default one under the platform's name) whose
    deliveries may only name an event: its fetcher, with that connection's credentials."""
    from ..connections import configured_connections

    return {
        c.name: _named_refusals(api_client(c.name, settings).details, None if c.is_default else c.name)
        for c in configured_connections(settings)
        if PLATFORMS[c.platform].fetches_details and not unset_settings(c.settings, PLATFORMS[c.platform].api_settings)
    }


def _named_refusals(fetch: DetailsFetcher, connection: str | None) -> DetailsFetcher:
    """A named connection's fetcher: a refusal of its credentials names the connection (its own
    /health flag), not the platform's default account."""
    if connection is None:
        return fetch

    def details(body: Any, event_id: str | None) -> Any:
        try:
            return fetch(body, event_id)
        except PlatformAuthError as error:
            error.platform = connection
            raise

    return details


def details_settings(name: str) -> str:
    """What fetching a delivery's details needs, for a message that says what to set."""
    if name not in PLATFORMS:
        return f"the API settings of connection {name} (in the CONNECTIONS file)"
    return " and ".join(platform(name).api_settings) or "the platform's API token"


def webhook_settings() -> list[str]:
    """Every setting a webhook route needs to deliver anything, in registry order (for /health)."""
    seen: dict[str, None] = {}
    for p in PLATFORMS.values():
        if p.webhook:
            for setting in (p.webhook.secret, *p.webhook.needs, *(p.api_settings if p.webhook.thin else ())):
                seen.setdefault(setting)
    return list(seen)
