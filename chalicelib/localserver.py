"""`chalice local` as the connector needs it: secrets kept out of its access log, answers
sent without Nagle's delay (it writes headers and body apart: a client that keeps its
connection, as a platform or the benchmarks do, would wait some 40 ms for each answer), and
one request through the app at a time."""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable


def tune(secret_path_prefixes: tuple[str, ...]) -> None:
    from chalice.local import ChaliceRequestHandler

    ChaliceRequestHandler.disable_nagle_algorithm = True
    hide_path_secrets(secret_path_prefixes)
    one_request_at_a_time()


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


def hide_path_secrets(prefixes: tuple[str, ...]) -> None:
    """`chalice local` logs each request line, path included: a secret path segment after one of
    `prefixes` (a webhook's token) is written as <secret> instead."""
    import re

    from chalice.local import ChaliceRequestHandler

    pattern = re.compile("(" + "|".join(re.escape(p) for p in prefixes) + r")[^/\s?]+")
    log_request = ChaliceRequestHandler.log_request

    def redacted(self: ChaliceRequestHandler, *args: object, **kwargs: object) -> None:
        self.requestline = pattern.sub(r"\1<secret>", self.requestline)
        log_request(self, *args, **kwargs)

    ChaliceRequestHandler.log_request = redacted  # type: ignore[method-assign]
