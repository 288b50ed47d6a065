"""A local fake of Certifier's API: GET /v1/credentials/{id} with Bearer auth and its version header."""

from __future__ import annotations

import threading
from urllib.parse import unquote, urlsplit

from fakes.server import JsonServer


class FakeCertifier:
    def __init__(self, token: str, port: int = 0) -> None:
        self.token = token
        self.credentials: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = JsonServer(self.handle, port)
        self.base_url = f"http://127.0.0.1:{self._server.port}/v1"

    def __enter__(self) -> "FakeCertifier":
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def add_credential(self, credential: dict) -> None:
        with self._lock:
            self.credentials[credential["id"]] = credential

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, object]:
        path = urlsplit(target).path
        with self._lock:
            self.requests.append((method, path))
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, {"error": {"message": "Unauthorized"}}
        if not headers.get("Certifier-Version"):
            return 400, {}, {"error": {"message": "Certifier-Version header is required"}}
        prefix = "/v1/credentials/"
        credential = self.credentials.get(unquote(path[len(prefix):])) if path.startswith(prefix) else None
        if method != "GET" or credential is None:
            return 404, {}, {"error": {"message": "Not found"}}
        return 200, {}, credential
