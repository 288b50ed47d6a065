"""A local fake of the Canvas Credentials / Badgr API: OAuth2 tokens that expire, and assertions.

Like the real one it allows duplicate awards (allowDuplicateAwards defaults to true).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from fakes.server import JsonServer


class FakeBadgr:
    def __init__(self, username: str, password: str, expires_in: int = 86400) -> None:
        self.username, self.password, self.expires_in = username, password, expires_in
        self.tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self.refresh_tokens: set[str] = set()
        self.assertions: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.refuse_refresh = False
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = JsonServer(self.handle)
        self.base_url = f"http://127.0.0.1:{self._server.port}"

    def __enter__(self) -> "FakeBadgr":
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def fail_next(self, status: int, times: int = 1) -> None:
        self._failures.extend([status] * times)

    def expire_tokens(self) -> None:
        self.tokens = {token: 0.0 for token in self.tokens}

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, object]:
        path = urlsplit(target).path
        with self._lock:
            self.requests.append((method, path))
            if self._failures:
                return self._failures.pop(0), {}, {"status": {"success": False, "description": "canned"}}
        if path == "/o/token" and method == "POST":
            return self._token({k: v[0] for k, v in parse_qs(body.decode()).items()})
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0.0) <= time.monotonic():
            return 401, {}, {"detail": "Authentication credentials were not provided."}
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 4 and parts[:2] == ["v2", "badgeclasses"] and parts[3] == "assertions":
            return self._assert(parts[2], json.loads(body or b"{}"))
        return 404, {}, {"status": {"success": False, "description": "Not found"}}

    def _token(self, form: dict) -> tuple[int, dict, object]:
        grant = form.get("grant_type")
        if grant == "refresh_token" and (self.refuse_refresh or form.get("refresh_token") not in self.refresh_tokens):
            return 400, {}, {"error": "invalid_grant"}
        if grant == "password" and (form.get("username"), form.get("password")) != (self.username, self.password):
            return 400, {}, {"error": "invalid_grant"}
        if grant not in ("password", "refresh_token"):
            return 400, {}, {"error": "unsupported_grant_type"}
        access, refresh = uuid.uuid4().hex, uuid.uuid4().hex
        self.tokens[access] = time.monotonic() + self.expires_in
        self.refresh_tokens.add(refresh)
        return 200, {}, {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in, "token_type": "Bearer"}

    def _assert(self, badgeclass: str, payload: dict) -> tuple[int, dict, object]:
        recipient = payload.get("recipient") or {}
        if not recipient.get("identity"):
            return 400, {}, {"status": {"success": False, "description": "recipient.identity is required"}, "result": []}
        entity = uuid.uuid4().hex[:22]
        assertion = {
            "entityType": "Assertion", "entityId": entity,
            "openBadgeId": f"{self.base_url}/public/assertions/{entity}",
            "badgeclass": badgeclass, "badgeclassOpenBadgeId": f"{self.base_url}/public/badges/{badgeclass}",
            "recipient": {"identity": "sha256$" + uuid.uuid4().hex, "hashed": True, "type": "email",
                          "plaintextIdentity": recipient["identity"]},
            "issuedOn": payload.get("issuedOn"), "revoked": False, "acceptance": "Unaccepted",
        }
        with self._lock:
            self.assertions.append(assertion)
        return 201, {}, {"status": {"success": True, "description": "ok"}, "result": [assertion]}
