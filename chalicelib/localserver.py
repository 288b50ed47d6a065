"""`chalice local` as the connector needs it: secrets kept out of its access log, answers
sent without Nagle's delay (it writes headers and body apart: a client that keeps its
connection, as a platform or the benchmarks do, would wait some 40 ms for each answer), and
one request through the app at a time; in it and in the local worker process, a cyclic garbage
collector tuned for the work (tune_gc)."""

from __future__ import annotations

import functools
import gc
import os
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

# The cyclic collector's first threshold (Python's default: 700). A route's array of documents and
# a worker's batch allocate and free thousands of dicts and lists; at 700 the young collections
# took about a tenth of the routes' and of the drain's CPU, while what either leaves behind stays
# well under this many.
GC_THRESHOLD = 10_000


def tune(secret_path_prefixes: tuple[str, ...]) -> None:
    from chalice.local import ChaliceRequestHandler

    ChaliceRequestHandler.disable_nagle_algorithm = True
    hide_path_secrets(secret_path_prefixes)
    one_request_at_a_time()
    tune_gc()


def tune_gc() -> None:
    """Leave what start-up built (modules, the app) out of every collection, and collect the
    young objects less often: see GC_THRESHOLD."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, older, oldest)


def one_request_at_a_time() -> None:
    """Chalice keeps the current request on the app object (`app.current_request`), which a Lambda
    instance, serving one request at a time, never shares; `chalice local` serves each connection
    in a thread of its own, so two requests at once could read each other's headers and body (a
    body checked against another request's credentials). Connections are still accepted at once;
    only their passage through the app is taken in turn (the routes answer in milliseconds)."""
    from chalice.local import LocalGateway

    if not hasattr(LocalGateway.handle_request, "__wrapped__"):
        LocalGateway.handle_request = serialized(LocalGateway.handle_request)  # type: ignore[method-assign]


def serialized(function: Callable[..., Any]) -> Callable[..., Any]:
    lock = threading.Lock()

    @functools.wraps(function)
    def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return function(*args, **kwargs)

    return one_at_a_time


SECRET = "<secret>"
LITERAL_MIN = 8  # a secret setting this long or longer is redacted wherever its value appears
# Kept as they are when re-encoding a decoded path for the log: what a path shows without escapes.
PATH_SAFE = "/:@!$&'()*+,;="
VERSION = re.compile(r"HTTP/\d")


def hide_path_secrets(prefixes: tuple[str, ...]) -> None:
    """`chalice local` logs each request line, and http.server quotes a malformed one in an error
    line: a path segment after one of `prefixes`' last segments (the Credly webhook's token, a
    share link's), a query string and a secret setting's value are written as <secret> instead."""
    from chalice.local import ChaliceRequestHandler

    if hasattr(ChaliceRequestHandler.log_request, "__wrapped__"):  # tune() again (a reload): wrapped once
        return
    redactor = Redactor(frozenset(p.strip("/").split("/")[-1].lower() for p in prefixes))
    log_request, log_error = ChaliceRequestHandler.log_request, ChaliceRequestHandler.log_error

    @functools.wraps(log_request)
    def redacted_request(self: ChaliceRequestHandler, *args: object, **kwargs: object) -> None:
        line = self.requestline
        self.requestline = redactor.line(line)
        try:
            log_request(self, *args, **kwargs)
        finally:
            self.requestline = line  # http.server may still quote it in an error line

    @functools.wraps(log_error)
    def redacted_error(self: ChaliceRequestHandler, format: str, *args: object) -> None:
        message = format % args if args else format
        log_error(self, "%s", redactor.error(message, getattr(self, "requestline", "")))

    ChaliceRequestHandler.log_request = redacted_request
    ChaliceRequestHandler.log_error = redacted_error


class Redactor:
    """What the access log may show of a request line, however its path is written: encoded
    slashes (%2F), doubled ones, other letter cases, percent-encoded letters, a query."""

    def __init__(self, secret_after: frozenset[str]) -> None:
        self.secret_after = secret_after  # path segments whose followers are secrets ("credly", "s")

    def line(self, text: str) -> str:
        secrets = literal_secrets()
        for value in secrets:
            text = text.replace(value, SECRET)
        shown, hiding = [], False
        for word in re.split(r"(\s+)", text):
            if not word or word.isspace():
                shown.append(word)
            elif hiding and not VERSION.match(word):
                shown.append(SECRET)  # a path split by spaces: what follows a secret's place is one too
            else:
                word, follows = self._word(word, secrets)
                shown.append(word)
                hiding = follows or (hiding and not VERSION.match(word))
        return "".join(shown)

    def error(self, message: str, requestline: str) -> str:
        """An error line: http.server puts what it quotes of the request line in parentheses."""
        text = self.line(message)
        return re.sub(r"\(.*\)", f"({SECRET})", text) if self.line(requestline) != requestline else text

    def _word(self, word: str, secrets: list[str]) -> tuple[str, bool]:
        """The word as shown, and whether the words after it are secret too."""
        found = re.search(r"[?#]", word)
        path, mark = (word[: found.start()], found.group()) if found else (word, "")
        decoded = decoded_fully(path)
        parts = re.split(r"[/\\]", decoded)
        for index, part in enumerate(parts if len(parts) > 1 else ()):  # a word without a slash is no path
            if part.split(";")[0].strip().lower() in self.secret_after:
                rest = parts[index + 1 :]
                tail = (f"/{SECRET}" if any(rest) else "/" * bool(rest)) + (f"{mark}{SECRET}" if mark else "")
                return quote("/".join(parts[: index + 1]), safe=PATH_SAFE) + tail, True
        if any(value in decoded for value in secrets):
            return SECRET, False
        return path + (f"{mark}{SECRET}" if mark else ""), False


def decoded_fully(text: str) -> str:
    """Percent-decoded until nothing changes (a %252F is a slash after two rounds), at most 8 rounds."""
    for _ in range(8):
        decoded = unquote(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    return text


def literal_secrets() -> list[str]:
    """The values of the secret settings given as values (not AWS references), read when logging."""
    from .secrets import SECRETS_MANAGER, SSM

    values = (os.environ.get(name, "").strip() for name in secret_settings())
    return [value for value in values if len(value) >= LITERAL_MIN and not value.startswith((SECRETS_MANAGER, SSM))]


@functools.cache
def secret_settings() -> tuple[str, ...]:
    from pydantic import SecretStr

    from .settings import Settings

    return tuple(
        name.upper()
        for name, field in Settings.model_fields.items()
        if field.annotation in (SecretStr, SecretStr | None)
    )
