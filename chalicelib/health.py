"""What GET /health reports: configuration that loads, and nothing secret."""

from __future__ import annotations

from .errors import SettingsError
from .settings import load_settings


def report() -> dict:
    try:
        settings = load_settings()
    except SettingsError as error:
        return {"status": "error", "settings": str(error)}
    return {
        "status": "ok",
        "xapi_version": settings.lrs_xapi_version,
        "identity_ifi": settings.identity_ifi,
        "revocation_policy": settings.revocation_policy,
    }
