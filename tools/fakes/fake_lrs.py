"""A scriptable fake xAPI LRS for unit tests: stdlib http.server in a thread on a free port.

By default it behaves like a small Learning Locker: POST /xAPI/statements stores a JSON array
(or one statement) and answers 200 with the ids; a differing statement under a known id makes
the whole batch 409; GET /xAPI/statements pages (relative `more` links) and filters by verb;
GET /xAPI/about answers the version. Tests can

* queue canned answers, served first and in order: `fake.script((429, {"Retry-After": "1"}), (503, {}))`,
  an entry is (status, headers[, body[, delay_seconds]]), an Answer, or PASS (default behaviour
  for that one request, e.g. to let a first chunk through before failures);
* choose validation: "none" accepts anything, "verb-scheme" answers 400 (Learning Locker's
  shape) for any batch holding a statement whose verb id has no URI scheme;
* inspect `requests` (every request: method, path, query, headers, body) and `batches`
  (the arrays it accepted).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

BASE_PATH = "/xAPI/"
PASS = None  # a script entry that lets one request through to the default behaviour
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON-able; None sends an empty body
    delay: float = 0.0  # seconds to wait before answering (read timeouts)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeLrs:
    def __init__(self, *, validate: Literal["none", "verb-scheme"] = "none", page_size: int = 100) -> None:
        self.validate = validate
        self.page_size = page_size
        self.requests: list[Recorded] = []
        self.batches: list[list[dict]] = []
        self.stored: dict[str, dict] = {}  # insertion order = storage order
        self._script: deque[Answer | None] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A client that gave up on a delayed answer closes the socket: not worth a traceback.
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.endpoint = self.url + BASE_PATH
        self.statements_url = self.endpoint + "statements"
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeLrs:
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLrs:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting and inspection --------------------------------------------------------------

    def script(self, *answers: Answer | tuple | None) -> None:
        with self._lock:
            self._script.extend(a if a is None or isinstance(a, Answer) else Answer(*a) for a in answers)

    @property
    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    # -- behaviour (called from the handler threads) -------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        body = _parse(raw)
        with self._lock:
            self.requests.append(Recorded(method, parts.path, parse_qs(parts.query), headers, body))
            scripted = self._script.popleft() if self._script else PASS
            if scripted is not PASS:
                return scripted
            return self._default(method, parts.path, parse_qs(parts.query), body)

    def _default(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer:
        if path == BASE_PATH + "about" and method == "GET":
            return Answer(200, body={"version": ["1.0.3"]})
        if path == BASE_PATH + "statements" and method == "POST":
            return self._store(body)
        if path == BASE_PATH + "statements" and method == "GET":
            return self._page(query)
        return Answer(404, body={"message": f"Cannot {method} {path}"})

    def _store(self, body: Any) -> Answer:
        batch = body if isinstance(body, list) else [body]
        if not all(isinstance(s, dict) for s in batch):
            return Answer(400, body={"errorId": str(uuid.uuid4()), "message": "Expected valid JSON in body"})
        problems = self._problems(batch)
        if problems:
            return Answer(400, body={"errorId": str(uuid.uuid4()), "warnings": problems})
        for statement in batch:
            known = self.stored.get(statement.get("id", ""))
            if known is not None and known != statement:
                return Answer(409, body={"errorId": str(uuid.uuid4()), "message": f"{statement['id']} is conflicting"})
        ids = []
        for statement in batch:
            statement.setdefault("id", str(uuid.uuid4()))
            self.stored.setdefault(statement["id"], statement)
            ids.append(statement["id"])
        self.batches.append(batch)
        return Answer(200, body=ids)

    def _problems(self, batch: list[dict]) -> list[str]:
        if self.validate == "none":
            return []
        return [
            f"Problem in 'statements.{index}.verb.id'. Received '{json.dumps(verb_id)}'"
            for index, statement in enumerate(batch)
            if not _SCHEME.match(str(verb_id := (statement.get("verb") or {}).get("id", "")))
        ]

    def _page(self, query: dict[str, list[str]]) -> Answer:
        verb = query.get("verb", [None])[0]
        matching = [s for s in self.stored.values() if verb is None or s.get("verb", {}).get("id") == verb]
        limit = int(query.get("limit", ["0"])[0]) or self.page_size
        offset = int(query.get("cursor", ["0"])[0])
        page = matching[offset : offset + limit]
        more = ""
        if offset + limit < len(matching):
            rest = {k: v[0] for k, v in query.items() if k != "cursor"}
            rest["cursor"] = str(offset + limit)
            more = BASE_PATH + "statements?" + urlencode(rest)
        return Answer(200, body={"statements": page, "more": more})


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _handler_for(fake: FakeLrs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = fake.handle(self.command, self.path, dict(self.headers.items()), raw)
            if answer.delay:
                time.sleep(answer.delay)
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    return Handler
