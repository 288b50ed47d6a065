"""The HTTP plumbing shared by the platform fakes: a threaded JSON server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

# (method, target, headers, raw body) -> (status, extra headers, JSON body or None)
Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, dict, object]]


class JsonServer:
    def __init__(self, handle: Handle, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(handle))
        self._server.daemon_threads = True
        # A client that gave up on a slow answer closes its socket: not worth a traceback.
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
            self._thread.start()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()


def _handler_for(handle: Handle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = handle(self.command, self.path, dict(self.headers.items()), body)
            raw = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
