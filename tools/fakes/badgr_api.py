"""A local fake of the Canvas Credentials / Badgr API: OAuth2 tokens that expire, and assertions.

- POST /o/token (form-encoded or JSON), as Django OAuth Toolkit answers it:
  grant_type=password with the configured username/password -> 200 {access_token, token_type,
  expires_in, refresh_token, scope}; grant_type=refresh_token with a live refresh token -> the
  same, and that refresh token is used up (rotation). Wrong credentials, a used or unknown
  refresh token, or `refuse_refresh = True` -> 400 {"error": "invalid_grant", ...}.
  Access tokens live `expires_in` seconds (configurable: make them short-lived in tests);
  `expire_tokens()` expires every issued access token at once (the platform's clock, not ours).
- Any other route needs `Authorization: Bearer <live token>`, else 401.
- POST /v2/badgeclasses/{entityId}/assertions -> 201 {"status": {...}, "result": [assertion]}.
  400 with fieldErrors for a missing recipient identity, an unknown recipient type, an issuedOn
  without a timezone, or an evidence item with neither url nor narrative; 404 for a badge class
  outside `badgeclasses` when that set is not empty. Duplicates are accepted, as Badgr does by
  default (allowDuplicateAwards): `assertions` records every one.
- `fail_next(status, times, headers, delay, path)` serves canned failures first (only for
  requests whose path ends with `path`, when given); status 0 means "only the delay, then the
  normal answer" (what `delay_next` does: the request still takes effect, as on a real server
  whose answer was too slow). `requests` records (method, path); `received` also the headers
  and the parsed body; `grants` the grant types asked for.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from fakes.server import PlatformFake, header

Answer = tuple[int, dict, object]
RECIPIENT_TYPES = ("email", "url", "telephone", "openBadgeId")
SCOPES = ("rw:issuer", "rw:backpack", "rw:profile", "r:profile", "r:backpack")


@dataclass
class _Token:
    expires_at: float
    scope: str
    refresh: str = field(default="")


def _envelope(success: bool, description: str, result: list | None = None, **extra: object) -> dict:
    return {"status": {"success": success, "description": description}, "result": result or [], **extra}


class FakeBadgr(PlatformFake):
    def __init__(self, username: str, password: str, expires_in: int = 86400, port: int = 0) -> None:
        self.username, self.password, self.expires_in = username, password, expires_in
        self.badgeclasses: set[str] = set()  # empty: every badge class exists
        self.tokens: dict[str, _Token] = {}
        self.refresh_tokens: set[str] = set()
        self.refuse_refresh = False
        self.assertions: list[dict] = []
        self.grants: list[str] = []
        super().__init__(port)
        self.base_url = f"http://127.0.0.1:{self.port}"

    # -- lifecycle and controls --------------------------------------------------------------



    def expire_tokens(self) -> None:
        with self._lock:
            for token in self.tokens.values():
                token.expires_at = 0.0

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        path = urlsplit(target).path
        parsed = _parse(body, header(headers, "Content-Type") or "")
        failure = self._record(method, path, headers, parsed)
        if failure:
            return failure.status, failure.headers, _envelope(False, f"canned {failure.status}")
        try:
            return self._route(method, path, headers, parsed)
        except Exception as error:  # a bug in the fake must look like a 500, not a dropped socket
            return 500, {}, _envelope(False, f"fake Badgr failed: {type(error).__name__}: {error}")

    def _route(self, method: str, path: str, headers: dict[str, str], body: object) -> Answer:
        if path == "/o/token":
            return self._token(body if isinstance(body, dict) else {}) if method == "POST" else (405, {}, None)
        if not self._live(header(headers, "Authorization") or ""):
            challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
            return 401, challenge, {"detail": "Invalid token header. Token is invalid or expired."}
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 4 and parts[:2] == ["v2", "badgeclasses"] and parts[3] == "assertions":
            return self._assert(parts[2], body if isinstance(body, dict) else {})
        return 404, {}, _envelope(False, "Not found")

    def _live(self, authorization: str) -> bool:
        scheme, _, value = authorization.partition(" ")
        with self._lock:
            token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            return token is not None and token.expires_at > time.monotonic()

    # -- OAuth2 ------------------------------------------------------------------------------

    def _token(self, form: dict) -> Answer:
        grant = str(form.get("grant_type") or "password")  # Badgr's docs omit it for the password grant
        with self._lock:
            self.grants.append(grant)
        if grant == "password":
            if (form.get("username"), form.get("password")) != (self.username, self.password):
                return _oauth_error("invalid_grant", "Invalid credentials given.")
        elif grant == "refresh_token":
            with self._lock:
                live = form.get("refresh_token") in self.refresh_tokens and not self.refuse_refresh
                self.refresh_tokens.discard(str(form.get("refresh_token")))  # rotated: single use
            if not live:
                return _oauth_error("invalid_grant", "Invalid refresh token.")
        else:
            return _oauth_error("unsupported_grant_type", f"{grant} is not supported")
        scope = str(form.get("scope") or "rw:profile rw:issuer rw:backpack")
        if any(s not in SCOPES for s in scope.split()):
            return _oauth_error("invalid_scope", f"unknown scope in {scope!r}")
        return 200, {"Cache-Control": "no-store"}, self._issue_token(scope)

    def _issue_token(self, scope: str) -> dict:
        access, refresh = uuid.uuid4().hex, uuid.uuid4().hex
        with self._lock:
            self.tokens[access] = _Token(time.monotonic() + self.expires_in, scope, refresh)
            self.refresh_tokens.add(refresh)
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.expires_in,
                "refresh_token": refresh, "scope": scope}

    # -- assertions --------------------------------------------------------------------------

    def _assert(self, badgeclass: str, payload: dict) -> Answer:
        if self.badgeclasses and badgeclass not in self.badgeclasses:
            return 404, {}, _envelope(False, f"BadgeClass {badgeclass} not found")
        errors = _assertion_errors(payload)
        if errors:
            return 400, {}, _envelope(False, "Validation failed", fieldErrors=errors, validationErrors=[])
        assertion = self._assertion(badgeclass, payload)
        with self._lock:
            self.assertions.append(assertion)
        return 201, {}, _envelope(True, "ok", [assertion])

    def _assertion(self, badgeclass: str, payload: dict) -> dict:
        recipient = payload["recipient"]
        identity, salt = str(recipient["identity"]), uuid.uuid4().hex
        hashed = recipient.get("hashed", True) is not False
        entity = uuid.uuid4().hex[:22]
        issuer = "Is4Jj5Kk6Ll7Mm8Nn9Oo0P"
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {
            "entityType": "Assertion", "entityId": entity,
            "openBadgeId": f"{self.base_url}/public/assertions/{entity}",
            "createdAt": now, "createdBy": "fakeIssuerStaff",
            "badgeclass": badgeclass, "badgeclassOpenBadgeId": f"{self.base_url}/public/badges/{badgeclass}",
            "issuer": issuer, "issuerOpenBadgeId": f"{self.base_url}/public/issuers/{issuer}",
            "image": f"{self.base_url}/media/assertion-{entity}.png",
            "recipient": {
                "identity": "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest() if hashed else identity,
                "salt": salt if hashed else None, "hashed": hashed, "type": recipient.get("type", "email"),
                "plaintextIdentity": identity,
            },
            "issuedOn": payload.get("issuedOn") or now, "narrative": payload.get("narrative"),
            "evidence": payload.get("evidence") or [], "revoked": False, "revocationReason": None,
            "acceptance": "Unaccepted", "expires": payload.get("expires"), "extensions": {},
        }


def _assertion_errors(payload: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    recipient = payload.get("recipient") if isinstance(payload.get("recipient"), dict) else {}
    if not recipient.get("identity"):
        errors["recipient.identity"] = ["This field is required."]
    if recipient.get("type", "email") not in RECIPIENT_TYPES:
        errors["recipient.type"] = [f"must be one of {', '.join(RECIPIENT_TYPES)}"]
    if payload.get("issuedOn") is not None and not _aware(str(payload["issuedOn"])):
        errors["issuedOn"] = ["Datetime must be ISO 8601 with a timezone."]
    evidence = payload.get("evidence") or []
    usable = lambda item: isinstance(item, dict) and bool(item.get("url") or item.get("narrative"))  # noqa: E731
    if not isinstance(evidence, list) or not all(usable(item) for item in evidence):
        errors["evidence"] = ["Each evidence item needs a url or a narrative."]
    return errors


def _aware(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _oauth_error(error: str, description: str) -> Answer:
    return 400, {"Cache-Control": "no-store"}, {"error": error, "error_description": description}


def _parse(body: bytes, content_type: str) -> object:
    if not body:
        return None
    if "json" in content_type:
        try:
            return json.loads(body)
        except ValueError:
            return None
    return {key: values[0] for key, values in parse_qs(body.decode(errors="replace")).items()}


