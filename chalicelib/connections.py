"""Named connections: several accounts of one platform in one deployment.

A platform's single-account settings (CREDLY_ORG_ID, CREDLY_TOKEN, ...) are its *default*
connection, named after the platform. The file named by CONNECTIONS adds named ones:

    [connections.credly-academy]
    platform = "credly"
    organisation = "Academy Ltd"                  # optional label: statements, status, report
    CREDLY_ORG_ID = "..."
    CREDLY_TOKEN = "secretsmanager:credential-connector/prod/credly-academy#token"
    CREDLY_WEBHOOK_TOKEN = "..."

A named connection overrides only its platform's own settings (those named <PLATFORM>_...). It
never inherits the default connection's credentials (the API settings and webhook secrets), so
an account left half-configured cannot act with another organisation's token; the platform's
other settings (API base, pace, ...) are inherited unless given. Docs: docs/platforms.md.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from .errors import SettingsError
from .platforms import PLATFORMS, Platform, unset_settings
from .settings import Settings, load_settings

NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
# Names the queue and the run records already give a meaning (LAP evidence, the expiry sweep, a
# CSV mapping): a connection by one of them would be taken for it.
RESERVED = frozenset({"lap", "lap-report", "expiry", "mapping"})
META_KEYS = ("platform", "organisation")


@dataclass(frozen=True)
class Connection:
    name: str  # the platform's name for its default connection, else the name given in CONNECTIONS
    platform: str  # registry name
    organisation: str  # label shown in statements, status, report, dead letters
    settings: Settings  # the deployment's settings with this connection's overrides applied

    @property
    def is_default(self) -> bool:
        return self.name == self.platform


def configured_connections(settings: Settings) -> list[Connection]:
    """Every connection whose platform API (or webhook) is configured: default ones first (in
    registry order), then the named ones (in file order)."""
    defaults = [_default(settings, name) for name in PLATFORMS]
    return [c for c in (*defaults, *named_connections(settings)) if is_configured(c)]


def connection(settings: Settings, name: str) -> Connection:
    """The connection called `name` (a platform's name: its default connection); SettingsError
    naming the known connections when there is none."""
    if name in PLATFORMS:
        return _default(settings, name)
    for named in named_connections(settings):
        if named.name == name:
            return named
    known = ", ".join([*PLATFORMS, *(c.name for c in named_connections(settings))])
    raise SettingsError(f"unknown connection {name!r}: one of {known}")


def name_argument(text: str) -> str:
    """A command line's PLATFORM: a platform's name or a well-formed connection name (which
    CONNECTIONS must declare: checked when the command runs, where the settings are read)."""
    if text in PLATFORMS or NAME.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: one of {', '.join(PLATFORMS)} or a named connection")


def known_name(name: str) -> str:
    """`name` when it is a platform's or a configured connection's (a command checks it before its
    run is recorded); SettingsError naming the known connections otherwise."""
    return connection(load_settings(), name).name


def award_connection(settings: Settings, platform: str, name: str | None, rule: str) -> Connection:
    """The connection an award rule awards through (`connection = ...`, or the platform's default):
    SettingsError naming the rule when it is unknown or a connection of another platform."""
    if name is None:
        return _default(settings, platform)
    try:
        found = connection(settings, name)
    except SettingsError as error:
        raise SettingsError(f"award rule {rule}: connection: {error}") from None
    if found.platform != platform:
        raise SettingsError(
            f"award rule {rule}: connection {name!r} is a {found.platform} connection, the credential is on {platform}"
        )
    return found


def named_connections(settings: Settings) -> tuple[Connection, ...]:
    """The connections of the CONNECTIONS file, configured or not (none when it is not set)."""
    path = settings.connections
    if not path:
        return ()
    try:
        stat = os.stat(path)
    except OSError as error:
        raise SettingsError(f"CONNECTIONS: cannot read {path}: {error.strerror}") from None
    return _load(settings, path, stat.st_mtime_ns, stat.st_size)


def is_configured(conn: Connection) -> bool:
    """Its API can be called or its webhook route can receive."""
    entry = PLATFORMS[conn.platform]
    api = entry.has_api and not unset_settings(conn.settings, entry.api_settings)
    hook = entry.webhook is not None and not unset_settings(conn.settings, (entry.webhook.secret,))
    return api or hook


def own_settings(platform: str) -> tuple[str, ...]:
    """The settings (environment names) a connection of `platform` may give: the platform's own."""
    prefix = f"{platform.upper()}_"
    return tuple(name.upper() for name in Settings.model_fields if name.upper().startswith(prefix))


def credential_settings(entry: Platform) -> tuple[str, ...]:
    """What identifies an account on the platform: never inherited from the default connection."""
    hook = (entry.webhook.secret, *entry.webhook.needs) if entry.webhook else ()
    return tuple(dict.fromkeys((*entry.api_settings, *hook)))


def _default(settings: Settings, platform: str) -> Connection:
    return Connection(platform, platform, PLATFORMS[platform].title, settings)


@lru_cache(maxsize=8)  # keyed on the file's mtime and size too: an edited file is read again
def _load(settings: Settings, path: str, mtime_ns: int, size: int) -> tuple[Connection, ...]:
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except OSError as error:
        raise SettingsError(f"CONNECTIONS: cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    extra = sorted(set(document) - {"connections"})
    if extra:
        raise SettingsError(
            f"{path}: unknown top-level key {extra[0]!r}: connections go in [connections.<name>] tables"
        )
    tables = document.get("connections", {})
    if not isinstance(tables, dict):
        raise SettingsError(f"{path}: connections: expected [connections.<name>] tables")
    return tuple(_connection(settings, path, name, table) for name, table in tables.items())


def _connection(settings: Settings, path: str, name: str, table: Any) -> Connection:
    where = f"{path}: connection {name!r}"
    if not NAME.fullmatch(name):
        raise SettingsError(f"{where}: a name is lower-case letters, digits and '-', starting with a letter or digit")
    if name in PLATFORMS or name in RESERVED:
        raise SettingsError(
            f"{where}: the name is taken (platform names and {', '.join(sorted(RESERVED))} are reserved)"
        )
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: expected a table of settings")
    platform = table.get("platform")
    if platform not in PLATFORMS:
        raise SettingsError(f"{where}: platform: one of {', '.join(PLATFORMS)} is required")
    organisation = table.get("organisation", name)
    if not isinstance(organisation, str) or not organisation.strip():
        raise SettingsError(f"{where}: organisation: expected a non-empty string")
    overrides = _overrides(where, platform, {k: v for k, v in table.items() if k not in META_KEYS})
    return Connection(name, platform, organisation.strip(), _applied(settings, where, platform, overrides))


def _overrides(where: str, platform: str, table: dict[str, Any]) -> dict[str, str]:
    allowed = own_settings(platform)
    values: dict[str, str] = {}
    for key, value in table.items():
        if key not in allowed:
            raise SettingsError(
                f"{where}: {key}: not a setting a {platform} connection can give (one of {', '.join(allowed)})"
            )
        if isinstance(value, (dict, list)):
            raise SettingsError(f"{where}: {key}: expected a string, number or boolean")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if text.strip():  # empty means unset, as in the environment
            values[key.lower()] = text
    return values


def _applied(settings: Settings, where: str, platform: str, overrides: dict[str, str]) -> Settings:
    """The deployment's settings, the platform's credentials cleared, the overrides applied."""
    cleared = {name.lower(): None for name in credential_settings(PLATFORMS[platform])}
    try:
        return Settings(**{**settings.model_dump(), **cleared, **overrides})
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part).upper() for part in first["loc"]) or "settings"
        raise SettingsError(f"{where}: {key}: {first['msg']}") from None
