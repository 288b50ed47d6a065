"""A local fake of Certifier's API: GET /v1/credentials/{id} with Bearer auth and its version header."""

from __future__ import annotations

import json
import threading
import uuid
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
        if method == "POST":
            return self._post(path, body)
        prefix = "/v1/credentials/"
        credential = self.credentials.get(unquote(path[len(prefix):])) if path.startswith(prefix) else None
        if method != "GET" or credential is None:
            return 404, {}, {"error": {"message": "Not found"}}
        return 200, {}, credential

    def _post(self, path: str, body: bytes) -> tuple[int, dict, object]:
        if path == "/v1/credentials":
            payload = json.loads(body or b"{}")
            if not payload.get("groupId") or not (payload.get("recipient") or {}).get("email"):
                return 422, {}, {"error": {"message": "groupId and recipient.email are required"}}
            credential = {"id": uuid.uuid4().hex, "publicId": str(uuid.uuid4()), "status": "draft", **payload}
            self.add_credential(credential)
            return 201, {}, credential
        parts = path.strip("/").split("/")
        credential = self.credentials.get(parts[2]) if len(parts) == 4 and parts[3] == "issue" else None
        if credential is None:
            return 404, {}, {"error": {"message": "Not found"}}
        credential["status"] = "issued"
        return 200, {}, credential

    @property
    def issued(self) -> list[dict]:
        return [c for c in self.credentials.values() if c.get("status") == "issued"]
