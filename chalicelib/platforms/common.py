"""What every platform folder shares: vendor models, parse helpers, the adapter and webhook
contracts, the settings check and redaction of platform messages."""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, NoReturn, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import DetailsRequired, InputError, SettingsError
from ..events import CredentialEvent, Skipped

if TYPE_CHECKING:
    import requests

    from ..settings import Settings

M = TypeVar("M", bound=BaseModel)
ParseResult = list[CredentialEvent | Skipped]

# Platforms' error messages may echo a recipient's address: errors end up in logs and dead letters.
EMAIL = re.compile(r"[^\s@\"'<>]+@[^\s@\"'<>]+\.[A-Za-z]{2,}")

# A token, or a function returning the current one (so a rotated secret is picked up).
Token = str | Callable[[], str]


class SourceAdapter(Protocol):
    def parse(self, document: object) -> ParseResult:
        """Canonical events (or documented skips) for one document the platform sent."""


class Adapter:
    """Base of the platform adapters: most read no settings."""

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Adapter":
        return cls()

    def parse(self, document: object) -> ParseResult:
        raise NotImplementedError


class VendorModel(BaseModel):
    """Vendors add fields without notice: accept and ignore anything unknown."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    """Validate `data`; on failure raise InputError naming the first bad field's dotted path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError.from_validation(error, prefix) from None


def require_object(data: Any, field: str) -> dict:
    if not isinstance(data, dict):
        raise InputError(field or "(document)", f"expected a JSON object, got {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def first_text(*values: Any) -> str | None:
    """The first non-empty string among values."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def missing(field: str) -> NoReturn:
    raise InputError(field, "missing")


def joined(prefix: str, field: str) -> str:
    """A dotted field path under prefix ("" at the document's root)."""
    return f"{prefix}.{field}" if prefix else field


def redacted(text: str, limit: int = 300) -> str:
    """A platform's message, short and without email addresses."""
    return EMAIL.sub("<email>", text)[:limit]


def answer_body(response: "requests.Response") -> Any:
    """A platform's answer as JSON, or its text when it is not JSON (error pages, proxies)."""
    try:
        return response.json()
    except ValueError:
        return response.text


def token_value(token: Token) -> str:
    return token() if callable(token) else token


def current_secret(settings: "Settings", field: str) -> Callable[[], str]:
    """The secret setting `field`, read per request (cached by secrets for SECRETS_TTL_SECONDS),
    so a warm container picks up a rotated secret; read once now, so that an unreadable secret
    reference fails at start-up rather than on the first delivery."""
    from ..secrets import reveal

    reveal(settings, field)
    return lambda: reveal(settings, field) or ""


def unset_settings(settings: "Settings", names: Iterable[str]) -> list[str]:
    """Which of the settings `names` (environment names) are not set."""
    return [name for name in names if getattr(settings, name.lower()) in (None, "")]


def require_settings(settings: "Settings", names: tuple[str, ...], purpose: str) -> None:
    """SettingsError naming every setting of `names` (environment names) that is not set."""
    absent = unset_settings(settings, names)
    if absent:
        raise SettingsError(f"{purpose} needs {', '.join(absent)} (not set)")


def content_key(platform: str, document: Any) -> str:
    """The de-duplication key of a delivery without an id of its own: an identical re-post is a
    redelivery (it would give the same statements), a changed document is new."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{platform}:sha256:{hashlib.sha256(canonical.encode()).hexdigest()}"


def check_shape(adapter: SourceAdapter, document: Any, prefix: str = "") -> None:
    """InputError (under prefix) for what cannot be translated whatever happens later; a
    delivery whose details the worker fetches passes."""
    try:
        adapter.parse(document)
    except DetailsRequired:
        return
    except InputError as error:
        where = f"{prefix}.{error.field}" if prefix and error.field else prefix or error.field
        raise InputError(where, error.message) from None
