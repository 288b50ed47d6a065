"""What the platform fakes share: a threaded JSON server on 127.0.0.1, the request log, canned
failures (429 with Retry-After, 5xx, slow answers, answers dripped a byte at a time), a session
cookie set on every answer when asked, and the lifecycle."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (method, target, headers, raw body) -> (status, extra headers, JSON body or None)
Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, dict, object]]


@dataclass(frozen=True)
class Drip:
    interval: float  # seconds between two bytes
    head: bool  # the status line and headers too, not only the body


class JsonServer:
    def __init__(self, handle: Handle, port: int = 0) -> None:
        self.handle = handle
        self.cookie: str | None = None  # a Set-Cookie header sent with every answer
        self.cookies_received: list[str] = []  # every Cookie header a client sent
        self._drips: deque[Drip | None] = deque()  # None: an answer sent as usual
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # ends the answers being dripped
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        # A client that gave up on a slow answer closes its socket: not worth a traceback.
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    def drip_next(self, interval: float = 1.0, times: int = 1, head: bool = False, skip: int = 0) -> None:
        """The next answers (after `skip` answered as usual) are sent one byte every `interval`
        seconds (with `head`, their status line and headers too): a server that keeps a client's
        per-read timeout from ever firing."""
        with self._lock:
            self._drips.extend([None] * skip + [Drip(interval, head)] * times)

    def take_drip(self) -> Drip | None:
        with self._lock:
            return self._drips.popleft() if self._drips else None

    def received_cookie(self, value: str) -> None:
        with self._lock:
            self.cookies_received.append(value)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
            self._thread.start()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()


class RawBody:
    """An answer's bytes as they are (e.g. a truncated JSON document), not encoded as JSON."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


def _handler_for(owner: JsonServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.headers.get("Cookie"):
                owner.received_cookie(self.headers["Cookie"])
            status, headers, payload = owner.handle(self.command, self.path, dict(self.headers.items()), body)
            if isinstance(payload, RawBody):
                raw = payload.raw
            else:
                raw = json.dumps(payload).encode() if payload is not None else b""
            headers = {"Content-Type": "application/json", "Content-Length": str(len(raw)), **headers}
            if owner.cookie:
                headers["Set-Cookie"] = owner.cookie
            drip = owner.take_drip()
            if drip:
                self._drip(status, headers, raw, drip)
                return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _drip(self, status: int, headers: dict[str, str], raw: bytes, drip: Drip) -> None:
            lines = [
                f"HTTP/1.0 {status} {self.responses.get(status, ('',))[0]}",
                *(f"{name}: {value}" for name, value in headers.items()),
            ]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode()
            if not drip.head:
                self.wfile.write(head)
            for byte in head + raw if drip.head else raw:
                if owner.stopping.wait(drip.interval):
                    return
                self.wfile.write(bytes((byte,)))  # unbuffered: each byte leaves on its own

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@dataclass
class Canned:
    status: int  # 0: no failure, only the delay, then the normal answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: object  # parsed JSON, the form as a dict, or None


class FailureQueue:
    """Canned failures served before the normal answer, optionally only to paths ending with
    `path` (e.g. "/issue"). Shared by the Badgr, Accredible and Certifier fakes."""

    def __init__(self) -> None:
        self._items: deque[tuple[Canned, str | None]] = deque()
        self._lock = threading.Lock()

    def add(
        self, status: int, times: int = 1, headers: dict | None = None, delay: float = 0.0, path: str | None = None
    ) -> None:
        with self._lock:
            self._items.extend((Canned(status, dict(headers or {}), delay), path) for _ in range(times))

    def take(self, path: str) -> Canned | None:
        with self._lock:
            for item in self._items:
                if item[1] is None or path.endswith(item[1]):
                    self._items.remove(item)
                    return item[0]
        return None


def header(headers: dict[str, str], name: str) -> str | None:
    """A request header, whatever the case the client sent it in."""
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


class PlatformFake:
    """What every platform fake shares: its server, lifecycle, request log and canned failures.

    A subclass sets its own state, calls this __init__, and defines `handle` (its API)."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[tuple[str, str]] = []
        self.received: list[Received] = []
        self._failures = FailureQueue()
        self._lock = threading.Lock()
        self._server = JsonServer(self.handle, port)
        self.port = self._server.port

    def start(self):
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self, status: int, times: int = 1, headers: dict | None = None, delay: float = 0.0, path: str | None = None
    ) -> None:
        self._failures.add(status, times, headers, delay, path)

    def delay_next(self, seconds: float, path: str | None = None) -> None:
        self.fail_next(0, 1, None, seconds, path)

    def drip_next(self, interval: float = 1.0, times: int = 1, head: bool = False, skip: int = 0) -> None:
        """The next answers leave a byte every `interval` seconds (JsonServer.drip_next)."""
        self._server.drip_next(interval, times, head, skip)

    def set_cookie(self, value: str | None) -> None:
        """Every answer from now on sets this cookie (a Set-Cookie header); None: none."""
        self._server.cookie = value

    @property
    def cookies_received(self) -> list[str]:
        """Every Cookie header a client sent."""
        return list(self._server.cookies_received)

    def _record(self, method: str, path: str, headers: dict[str, str], parsed: object) -> Canned | None:
        """Log the request; the canned failure to answer with, after its delay, if one is due."""
        with self._lock:
            self.requests.append((method, path))
            self.received.append(Received(method, path, dict(headers), parsed))
        failure = self._failures.take(path)
        if failure:
            time.sleep(failure.delay)
        return failure if failure and failure.status else None


def is_iso_date(text: str) -> bool:
    """YYYY-MM-DD exactly, as the platforms' date fields require."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
