"""What every platform folder shares: vendor models, parse helpers, the adapter and webhook
contracts, the settings check and redaction of platform messages."""

from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import DetailsRequired, InputError, SettingsError, shown_id
from ..events import CredentialEvent, Skipped
from ..xapi.validate import CONTROLS, is_absolute_iri

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


class Adapter(ABC):
    """Base of the platform adapters: most read no settings."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Adapter:
        return cls()

    @abstractmethod
    def parse(self, document: object) -> ParseResult:
        """Canonical events (or documented skips) for one document the platform sent."""


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


def id_text(value: Any) -> str | None:
    """An identifier a document gives as text or as a whole number (Accredible's ids are
    numbers), as text; None for anything else (an object, an array, true, an empty string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 128 else None  # no id is that long; str() may refuse
    return first_text(value)


# No id, email address or URL holds a control character: the LRS, a database or a log line
# behind the connector may cut the text there or refuse the statement.
CONTROL = re.compile(f"[{CONTROLS}]")


def identifier(value: str, field: str) -> str:
    """value when it holds no control character (an id, an email address, a URL); else InputError."""
    found = CONTROL.search(value)
    if found:
        raise InputError(field, f"holds a control character (U+{ord(found.group()):04X})")
    return value


def absolute_iri(value: str, field: str) -> str:
    """value when it is an absolute IRI (statements identify activities by one); else InputError."""
    if not is_absolute_iri(identifier(value, field)):
        raise InputError(field, "not an absolute IRI (a scheme, no spaces)")
    return value


def optional_iri(value: Any, field: str) -> str | None:
    """The absolute IRI in value (None when there is none): an assertion URL the statements name
    the learner's credential by (the badgeassertion extension's `@id`)."""
    text = first_text(value)
    return absolute_iri(text, field) if text is not None else None


# What an xAPI mbox accepts after "mailto:" (xapi.validate): one @, a dotted domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def email_address(value: Any, field: str) -> str | None:
    """The email address in value (None when there is none); InputError when the text given is
    not one: it could never become the learner's mbox."""
    text = first_text(value)
    if text is not None and not _EMAIL.match(identifier(text, field)):
        raise InputError(field, "not an email address")
    return text


# How deep a document may nest: the queue's JSON parser (pydantic's, reading the local outbox)
# stops at 200 levels, and its serializer at about 250, well short of what json.loads accepts.
MAX_DEPTH = 100


def require_queueable(document: Any, prefix: str = "") -> None:
    """InputError naming where a document could never be queued, wherever that is (a field the
    adapters read or not): text (or a key) holding a lone surrogate ("\\ud800", which JSON
    parsers let through, but no encoder, queue, store or LRS takes), or nesting deeper than
    MAX_DEPTH.

    Iterative (documents may nest as deep as the JSON parser allows); paths are only spelled
    out once something is wrong."""
    if _queueable(document):
        return
    stack: list[tuple[Any, str, int]] = [(document, prefix, 0)]
    while stack:
        value, path, depth = stack.pop()
        where = path or "(document)"
        if isinstance(value, str):
            if not _is_unicode(value):
                raise InputError(where, "not valid Unicode (a lone surrogate)")
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise InputError(where, f"nested more than {MAX_DEPTH} levels deep")
            if isinstance(value, list):
                stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
                continue
            for key, item in value.items():
                if isinstance(key, str) and not _is_unicode(key):
                    raise InputError(where, "a key is not valid Unicode (a lone surrogate)")
                stack.append((item, joined(path, str(key)), depth + 1))


def require_queueable_json(text: bytes, document: Any) -> None:
    """require_queueable for the document json.loads made of `text`, answered from the text itself
    when it can: a body with no surrogate escape or encoding and nesting within MAX_DEPTH passes
    at C speed. Anything else goes to require_queueable, which decides and names the place."""
    if not _text_queueable(text):
        require_queueable(document)


# What could give a lone surrogate: an escape of one (json.loads joins a valid pair, so a pair
# also goes to the walk, which lets it pass), or its UTF-8-style encoding (json.loads decodes
# bytes with "surrogatepass").
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_BYTES = re.compile(rb"\xed[\xa0-\xbf]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING_LEFT = re.compile(rb'"[^"]*"')  # a string holding brackets, once escapes are gone
_NESTING = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _text_queueable(text: bytes) -> bool:
    if json.detect_encoding(text) != "utf-8":
        return False  # UTF-16/32 or a byte order mark: the walk decides
    if b"\xed" in text and _SURROGATE_BYTES.search(text):
        return False
    if b"\\" in text:
        if _SURROGATE_ESCAPE.search(text):
            return False
        # Escapes pair from the left, so dropping every escaped backslash first, then every
        # escaped quote, leaves exactly the quotes that delimit strings.
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Only quotes and brackets left; two quotes side by side hold nothing structural between
    # them (an empty string, or the end of one and the start of the next): most strings go so.
    structure = text.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    brackets = _STRING_LEFT.sub(b"", structure) if b'"' in structure else structure
    if b'"' in brackets:
        return False  # unbalanced quotes: not what json.loads accepted; the walk decides
    opened = brackets.count(b"[") + brackets.count(b"{")
    return opened <= MAX_DEPTH or max(accumulate(map(_NESTING.__getitem__, brackets))) <= MAX_DEPTH


def _queueable(document: Any) -> bool:
    """The common answer, fast: the encoder finds lone surrogates (keys too) at C speed, and the
    depth walk looks at containers only. Anything it cannot vouch for (a value json cannot
    encode, say) goes to the walk of require_queueable, which decides."""
    try:
        json.dumps(document, ensure_ascii=False, check_circular=False).encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        return False
    return _nesting_within_limit(document)


def _nesting_within_limit(document: Any) -> bool:
    level = [document] if isinstance(document, (dict, list)) else []
    depth = 0
    while level:
        if depth >= MAX_DEPTH:
            return False
        deeper: list[Any] = []
        for value in level:
            deeper.extend(
                v for v in (value.values() if isinstance(value, dict) else value) if isinstance(v, (dict, list))
            )
        level = deeper
        depth += 1
    return True


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def path_segment(value: object, unusable: Callable[[str], Exception]) -> str:
    """`value` quoted as one URL path segment; `unusable(<the id as shown>)` is raised for an
    empty id or a dot segment, which HTTP clients resolve even when quoted (".." would leave the
    path the connector means)."""
    text = str(value)
    if text.strip() in ("", ".", ".."):
        raise unusable(shown_id(text))
    return quote(text, safe="")


def missing(field: str) -> NoReturn:
    raise InputError(field, "missing")


def joined(prefix: str, field: str) -> str:
    """A dotted field path under prefix ("" at the document's root)."""
    return f"{prefix}.{field}" if prefix else field


def redacted(text: str, limit: int = 300) -> str:
    """A platform's message, short and without email addresses."""
    return EMAIL.sub("<email>", text)[:limit]


def answer_body(response: requests.Response) -> Any:
    """A platform's answer as JSON, or its text when it is not JSON (error pages, proxies)."""
    try:
        return response.json()
    except ValueError:
        return response.text


def token_value(token: Token) -> str:
    return token() if callable(token) else token


def current_secret(settings: Settings, field: str) -> Callable[[], str]:
    """The secret setting `field`, read per request (cached by secrets for SECRETS_TTL_SECONDS),
    so a warm container picks up a rotated secret; read once now, so that an unreadable secret
    reference fails at start-up rather than on the first delivery."""
    from ..secrets import reveal

    reveal(settings, field)
    return lambda: reveal(settings, field) or ""


def unset_settings(settings: Settings, names: Iterable[str]) -> list[str]:
    """Which of the settings `names` (environment names) are not set."""
    return [name for name in names if getattr(settings, name.lower()) in (None, "")]


def require_settings(settings: Settings, names: tuple[str, ...], purpose: str) -> None:
    """SettingsError naming every setting of `names` (environment names) that is not set."""
    absent = unset_settings(settings, names)
    if absent:
        raise SettingsError(f"{purpose} needs {', '.join(absent)} (not set)")


def content_key(platform: str, document: Any) -> str:
    """The de-duplication key of a delivery without an id of its own: an identical re-post is a
    redelivery (it would give the same statements), a changed document is new."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{platform}:sha256:{hashlib.sha256(canonical.encode()).hexdigest()}"


def check_shape(adapter: SourceAdapter, document: Any, prefix: str = "") -> tuple[CredentialEvent, ...] | None:
    """InputError (under prefix) for what cannot be translated whatever happens later; a
    delivery whose details the worker fetches passes. (What no queue could carry, anywhere in the
    body, used or not, the route has refused already: intake.http.read_json.)

    Returns the events read, so that the worker translates them without reading the document
    again; None when the worker must read it itself (details to fetch, or an item skipped by a
    rule, which the worker counts)."""
    try:
        items = adapter.parse(document)
    except DetailsRequired:
        return None
    except InputError as error:
        where = f"{prefix}.{error.field}" if prefix and error.field else prefix or error.field
        raise InputError(where, error.message) from None
    events = tuple(item for item in items if isinstance(item, CredentialEvent))
    return events if len(events) == len(items) else None


def tag_and_alignment_names(tags: Any, alignments: Any) -> tuple[str, ...]:
    """Tags and alignment target names (Open Badges, and Badgr's badge classes alike): optional
    metadata, so anything unusable is left out rather than refused (a tag that is not text, tags
    or alignment that are not an array). JSON-LD allows one value without the array: a lone tag
    or alignment counts."""
    names = [t for t in _as_list(tags) if isinstance(t, str) and t.strip()]
    for alignment in _as_list(alignments):
        if isinstance(alignment, dict):
            name = first_text(alignment.get("targetName"))
            if name:
                names.append(name)
    return tuple(dict.fromkeys(names))


def _as_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, (str, dict)) else []
