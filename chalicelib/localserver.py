"""`chalice local` as the connector needs it: secrets kept out of its access log, and answers
sent without Nagle's delay (it writes headers and body apart: a client that keeps its
connection, as a platform or the benchmarks do, would wait some 40 ms for each answer)."""

from __future__ import annotations


def tune(secret_path_prefixes: tuple[str, ...]) -> None:
    from chalice.local import ChaliceRequestHandler

    ChaliceRequestHandler.disable_nagle_algorithm = True
    hide_path_secrets(secret_path_prefixes)


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
