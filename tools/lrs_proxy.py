"""An LRS that honours less than the one behind it: a threaded HTTP proxy in front of a real LRS
(tools/lrs_process.py) that answers as other xAPI implementations do.

- oldest first: GET /statements is asked with `ascending=true` (the spec's default is newest first);
- filters ignored: `statementId` and `voidedStatementId` (or those named) are dropped, so a
  look-up by id is answered with a page of other statements;
- no `/about`: 404, as an LRS without that resource answers;
- refusals on demand: `refuse(when, text)` answers matching requests itself (plain text by
  default), e.g. an LRS pinned to another xAPI version, or one refusing certain statements.

Everything else goes through unchanged, to the real LRS. Used by the test suite
(tests/support/connector.py `hostile_lrs`) and by hand:

    python tools/lrs_proxy.py --upstream http://127.0.0.1:8081/xAPI/ --port 8083
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

ID_FILTERS = ("statementId", "voidedStatementId")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass(frozen=True)
class Seen:
    """One request as the proxy received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def statement_ids(self) -> set[str]:
        """The ids of the statements a POST carries (none if it is not a statements POST)."""
        try:
            sent = json.loads(self.body or b"null")
        except ValueError:
            return set()
        batch = sent if isinstance(sent, list) else [sent]
        return {str(s["id"]) for s in batch if isinstance(s, dict) and "id" in s}


@dataclass
class Refusal:
    when: Callable[[Seen], bool]
    status: int
    text: str
    content_type: str


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class LrsProxy:
    def __init__(
        self,
        upstream: str,
        *,
        oldest_first: bool = True,
        ignored: tuple[str, ...] = ID_FILTERS,
        about: bool = False,
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.oldest_first = oldest_first
        self.ignored = ignored  # the GET /statements parameters dropped before asking the real LRS
        self.about = about
        self.seen: list[Seen] = []
        self.refusals: list[Refusal] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.endpoint = f"http://127.0.0.1:{self.port}{parts.path}"
        self.statements_url = self.endpoint.rstrip("/") + "/statements"
        self._thread: threading.Thread | None = None

    def start(self) -> LrsProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LrsProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def refuse(
        self,
        when: Callable[[Seen], bool],
        text: str,
        status: int = 400,
        content_type: str = "text/plain; charset=utf-8",
    ) -> None:
        """Answer the requests `when` picks with `status` and `text`, not the real LRS's answer."""
        with self._lock:
            self.refusals.append(Refusal(when, status, text, content_type))

    def handle(self, seen: Seen) -> Answer:
        with self._lock:
            self.seen.append(seen)
            refusal = next((r for r in self.refusals if r.when(seen)), None)
        if refusal is not None:
            return Answer(refusal.status, [("Content-Type", refusal.content_type)], refusal.text.encode())
        if seen.path.endswith("/about") and not self.about:
            return Answer(404, [("Content-Type", "application/json")], b'{"detail":"Not Found"}')
        return self._forward(seen)

    def _forward(self, seen: Seen) -> Answer:
        query = dict(seen.query)
        if seen.method == "GET" and seen.path.endswith("/statements"):
            for key in self.ignored:
                query.pop(key, None)
            if self.oldest_first:
                query.setdefault("ascending", "true")
        headers = {k: v for k, v in seen.headers.items() if k.lower() not in HOP_BY_HOP}
        url = self.origin + seen.path + ("?" + urlencode(query) if query else "")
        answer = requests.request(
            seen.method, url, headers=headers, data=seen.body or None, allow_redirects=False, timeout=30
        )
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
        return Answer(answer.status_code, kept, answer.content)


def _handler_for(proxy: LrsProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            seen = Seen(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query, keep_blank_values=True)),
                dict(self.headers.items()),
                raw,
            )
            answer = proxy.handle(seen)
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run an LRS proxy that answers oldest first, ignores "
        "statementId/voidedStatementId and has no /about."
    )
    parser.add_argument("--upstream", required=True, help="the real LRS's xAPI base, e.g. http://127.0.0.1:8081/xAPI/")
    parser.add_argument("--port", type=int, default=8083)
    args = parser.parse_args(argv)
    proxy = LrsProxy(args.upstream, port=args.port)
    print(f"LRS proxy: {proxy.endpoint} -> {args.upstream}; Ctrl-C to stop.", flush=True)
    with proxy, contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
