"""The registry: every platform the connector speaks, and the one place that lists them.

Shared machinery (intake, workers, /health, awards, CLI) knows platforms only through these
functions. Adding a platform is one folder (see spec.Platform for what it holds) plus one entry
in PLATFORMS below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..errors import SettingsError
from .common import SourceAdapter, require_settings, unset_settings
from .spec import Delivery, DeliveryItem, DetailsFetcher, ExportColumn, ExportLayout, Platform, Webhook

if TYPE_CHECKING:
    from ..settings import Settings
    from .awarding import AwardClient
    from .pulling import Puller

PLATFORMS: dict[str, Platform] = {p.name: p for p in (
    Platform("credly", "Credly", api_settings=("CREDLY_ORG_ID", "CREDLY_TOKEN"), fetches_details=True,
             can_award=True, pull=("backfill", "sync"), csv=True,
             # Credly retries anything but 200 for days: every accepted outcome answers 200.
             webhook=Webhook("path_token", "CREDLY_WEBHOOK_TOKEN", needs=("CREDLY_ORG_ID",), ack_status=200,
                             thin=True)),
    Platform("certifier", "Certifier", api_settings=("CERTIFIER_TOKEN",), fetches_details=True, can_award=True,
             webhook=Webhook("signature", "CERTIFIER_WEBHOOK_SECRET"), pull=("backfill", "sync")),
    Platform("openbadges", "Open Badges", webhook=Webhook("bearer", "OPENBADGES_INGEST_TOKEN", many=True)),
    Platform("badgr", "Canvas Credentials", api_settings=("BADGR_USERNAME", "BADGR_PASSWORD"), can_award=True,
             pull=("backfill", "sync"), csv=True),
    Platform("accredible", "Accredible", api_settings=("ACCREDIBLE_API_KEY",), can_award=True,
             pull=("backfill", "sync"), csv=True),
)}

__all__ = ["PLATFORMS", "Delivery", "DeliveryItem", "DetailsFetcher", "ExportColumn", "ExportLayout", "Platform",
           "SourceAdapter", "Webhook",
           "adapter_for", "api_client", "award_client", "award_credential_id", "awarding_platforms",
           "csv_layout", "csv_platforms", "details_fetchers", "details_settings", "names", "platform", "platform_titles", "puller", "pulling_platforms", "unset_settings", "webhook_reader",
           "webhook_settings"]


def names() -> list[str]:
    return sorted(PLATFORMS)


def platform_titles() -> dict[str, str]:
    """Registry name -> the name users know (it appears in statements: never change one)."""
    return {p.name: p.title for p in PLATFORMS.values()}


def platform(name: str) -> Platform:
    if name not in PLATFORMS:
        raise ValueError(f"unknown platform {name!r}; one of: {', '.join(names())}")
    return PLATFORMS[name]


def adapter_for(name: str, settings: "Settings") -> SourceAdapter:
    return platform(name).part("adapter", "ADAPTER").from_settings(settings)


def api_client(name: str, settings: "Settings", purpose: str | None = None) -> Any:
    """The platform's API client; SettingsError naming each setting it needs that is not set."""
    entry = platform(name)
    if not entry.has_api:
        raise SettingsError(f"{entry.title} has no API the connector calls")
    require_settings(settings, entry.api_settings, purpose or f"calling {entry.title}'s API")
    return entry.part("api", "CLIENT").from_settings(settings)


def awarding_platforms() -> tuple[str, ...]:
    """The platforms a rule can award on, in registry order."""
    return tuple(p.name for p in PLATFORMS.values() if p.can_award)


def award_client(name: str, settings: "Settings") -> "AwardClient":
    if name not in awarding_platforms():
        raise SettingsError(f"cannot award on {name!r}: one of {', '.join(sorted(awarding_platforms()))}")
    return platform(name).part("awards", "AWARDS")(api_client(name, settings, f"awarding on {name}"))


def award_credential_id(name: str, value: str) -> str:
    """A rules file's credential id for the platform, normalised; ValueError says why not."""
    return platform(name).part("awards", "credential_id")(value)


def pulling_platforms(mode: str) -> list[str]:
    return [p.name for p in PLATFORMS.values() if mode in p.pull]


def puller(name: str, settings: "Settings", mode: str) -> "Puller":
    """The platform's puller for `mode`; SettingsError when it cannot pull that way or misses a setting."""
    if mode not in platform(name).pull:
        able = ", ".join(pulling_platforms(mode)) or "none"
        raise SettingsError(f"{name} has no {mode}: platforms with one: {able}")
    return platform(name).part("pull", "PULLER")(api_client(name, settings, f"pulling from {name}"))


def csv_platforms() -> list[str]:
    """The platforms whose own CSV export import-csv reads, in registry order."""
    return [p.name for p in PLATFORMS.values() if p.csv]


def csv_layout(name: str, settings: "Settings") -> ExportLayout:
    """The layout of the platform's CSV export; SettingsError when it has none the connector reads."""
    if name not in csv_platforms():
        raise SettingsError(f"no CSV export layout for {name!r}: one of {', '.join(csv_platforms())} "
                            "(any other layout: --mapping FILE)")
    return platform(name).part("export", "EXPORT")(settings)


def webhook_reader(name: str) -> Callable[[Any, "Settings"], Delivery]:
    return platform(name).part("webhook", "read_delivery")


def details_fetchers(settings: "Settings") -> dict[str, DetailsFetcher]:
    """For each configured platform whose deliveries may only name an event: its fetcher."""
    return {
        p.name: api_client(p.name, settings).details
        for p in PLATFORMS.values()
        if p.fetches_details and not unset_settings(settings, p.api_settings)
    }


def details_settings(name: str) -> str:
    """What fetching a delivery's details needs, for a message that says what to set."""
    return " and ".join(platform(name).api_settings) or "the platform's API token"


def webhook_settings() -> list[str]:
    """Every setting a webhook route needs to deliver anything, in registry order (for /health)."""
    seen: dict[str, None] = {}
    for p in PLATFORMS.values():
        if p.webhook:
            for setting in (p.webhook.secret, *p.webhook.needs, *(p.api_settings if p.webhook.thin else ())):
                seen.setdefault(setting)
    return list(seen)
