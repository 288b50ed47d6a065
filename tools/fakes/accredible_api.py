"""A local fake of Accredible's API: Token auth, POST /v1/credentials with its 422s."""

from __future__ import annotations

import json
import random
import threading
from urllib.parse import urlsplit

from fakes.server import JsonServer


class FakeAccredible:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.credentials: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self._failures: list[tuple[int, dict]] = []
        self._lock = threading.Lock()
        self._server = JsonServer(self.handle)
        self.base_url = f"http://127.0.0.1:{self._server.port}"

    def __enter__(self) -> "FakeAccredible":
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def fail_next(self, status: int, times: int = 1, headers: dict | None = None) -> None:
        self._failures.extend([(status, headers or {})] * times)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, object]:
        path = urlsplit(target).path
        with self._lock:
            self.requests.append((method, path))
            if self._failures:
                status, extra = self._failures.pop(0)
                return status, extra, {"errors": "canned"}
        if headers.get("Authorization") != f"Token token={self.api_key}":
            return 401, {}, {"errors": "Unauthorized"}
        if (method, path) != ("POST", "/v1/credentials"):
            return 404, {}, {"errors": "Not found"}
        credential = (json.loads(body or b"{}") or {}).get("credential") or {}
        recipient = credential.get("recipient") or {}
        missing = [f for f, v in (("recipient.email", recipient.get("email")), ("recipient.name", recipient.get("name")),
                                  ("group_id", credential.get("group_id"))) if not v]
        if missing:
            return 422, {}, {"errors": {f: ["can't be blank"] for f in missing}}
        created = {
            "id": random.randint(10_000_000, 99_999_999), "name": f"Group {credential['group_id']}",
            "url": "", "issued_on": credential.get("issued_on"), "recipient": {"id": random.randint(1, 9_999_999), **recipient},
            "group": {"id": credential["group_id"], "course_name": f"Course {credential['group_id']}"},
        }
        created["url"] = f"https://www.credential.net/{created['id']}"
        with self._lock:
            self.credentials.append(created)
        return 200, {}, {"credential": created}
