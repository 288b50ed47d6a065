"""A credential URL as a share link's redirect can carry it.

The Location header is ASCII on every server the connector runs behind (http.server writes
headers as Latin-1, API Gateway as ASCII): an IRI (an IDN host, 例え in the path) is sent as the
URI it stands for, its host in IDNA (UTS #46, as browsers read it) and the rest percent-encoded
as UTF-8, escapes already there (%XX) kept. A control character would end or corrupt the header
(a line break above all): it is refused, as is a URL that is not one whole.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import idna

from ..errors import InputError

HTTP_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\s<>\"{}|\\^`]+")  # matched whole: no `$` before a last \n
LONGEST = 8000  # characters once percent-encoded: servers refuse longer header lines (8 KiB is common)
# What RFC 3986 lets a path, a query or a fragment hold unescaped, besides letters, digits and -._~
PATH_SAFE = "/:@!$&'()*+,;="
QUERY_SAFE = PATH_SAFE + "?"
LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
ASCII_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")


def checked(url: str, field: str) -> str:
    """`url` unchanged when the whole of it is an absolute http(s) URL without control characters;
    else InputError naming `field`."""
    for character in url:
        category = unicodedata.category(character)
        if category == "Cc":
            raise InputError(field, f"contains a control character (U+{ord(character):04X})")
        if category == "Cs":
            raise InputError(field, f"is not Unicode text (a lone surrogate, U+{ord(character):04X})")
    if not HTTP_URL.fullmatch(url):
        raise InputError(field, "must be an absolute http(s) URL")
    return url


def as_uri(url: str, field: str) -> str:
    """The ASCII URI `url` (a URI or an IRI) stands for; InputError naming `field` when it has none."""
    parts = _split(checked(url, field), field)
    uri = urlunsplit(
        (
            parts.scheme,
            _host(parts, field),
            _escaped(parts.path, PATH_SAFE),
            _escaped(parts.query, QUERY_SAFE),
            _escaped(parts.fragment, QUERY_SAFE),
        )
    )
    if len(uri) > LONGEST:
        raise InputError(field, f"longer than {LONGEST} characters once percent-encoded")
    return uri


def _split(url: str, field: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError as error:
        raise InputError(field, f"not a URL: {error}") from None
    if "@" in parts.netloc:
        raise InputError(field, "must not carry a user name or password")
    return parts


def _host(parts: SplitResult, field: str) -> str:
    """The host (and port as given) in ASCII: an internationalised name in IDNA."""
    netloc = parts.netloc
    host, port = netloc, ""
    if ":" in netloc and not netloc.endswith("]"):  # a port (an IPv6 literal alone ends with "]")
        host, port = netloc.rsplit(":", 1)
        port = ":" + port
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise InputError(field, "the host is not a valid internationalised domain name") from None
    if not ASCII_HOST.fullmatch(host):
        raise InputError(field, "has no valid host name")
    return host + port


def _escaped(text: str, safe: str) -> str:
    """Non-ASCII and what the part may not hold percent-encoded; a % that starts no escape is one."""
    return quote(LONE_PERCENT.sub("%25", text), safe=safe + "%")
