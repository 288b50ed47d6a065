"""One module per credentialing platform: parse what it sends into canonical events."""

from __future__ import annotations

from typing import Callable, Protocol

from ..events import CredentialEvent, Skipped
from ..settings import Settings

ParseResult = list[CredentialEvent | Skipped]

# What the worker needs to fetch details a delivery only names.
API_TOKEN_SETTINGS = {"credly": "CREDLY_TOKEN and CREDLY_ORG_ID", "certifier": "CERTIFIER_TOKEN"}


class SourceAdapter(Protocol):
    def parse(self, document: object) -> ParseResult:
        """Canonical events (or documented skips) for one document the platform sent."""


def adapter_for(source: str, settings: Settings) -> SourceAdapter:
    factories = _factories()
    if source not in factories:
        raise ValueError(f"unknown source {source!r}; one of: {', '.join(sorted(factories))}")
    return factories[source](settings)


def source_names() -> list[str]:
    return sorted(_factories())


def _factories() -> dict[str, Callable[[Settings], SourceAdapter]]:
    from .accredible import AccredibleAdapter
    from .badgr import BadgrAdapter
    from .certifier import CertifierAdapter
    from .credly import CredlyAdapter
    from .openbadges import OpenBadgesAdapter

    return {
        "credly": CredlyAdapter,
        "certifier": CertifierAdapter,
        "openbadges": OpenBadgesAdapter,
        "badgr": BadgrAdapter,
        "accredible": AccredibleAdapter,
    }
