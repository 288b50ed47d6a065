"""A local fake of the Canvas Credentials / Badgr API: OAuth2 tokens that expire, and assertions.

- POST /o/token (form-encoded or JSON), as Django OAuth Toolkit answers it:
  grant_type=password with the configured username/password -> 200 {access_token, token_type,
  expires_in, refresh_token, scope}; grant_type=refresh_token with a live refresh token -> the
  same, and that refresh token is used up (rotation). Wrong credentials, a used or unknown
  refresh token, or `refuse_refresh = True` -> 400 {"error": "invalid_grant", ...}. With
  `refresh_grant_fails = True` every refresh grant is 401 text/html {"error": "Token refresh
  failed!"}, as badgr-server answers it (it renews only the tokens of its OIDC sign-in).
  The scope granted is the account's whole scope (GRANTED_SCOPE), whatever was asked for, an
  unknown scope too: badgr-server checks the scope only against a client_id's application,
  and a grant without client_id (the connector's) names none.
  A token answer also sets `access_token` and `refresh_token` cookies (HttpOnly, Max-Age the token's
  lifetime, Path=/, no SameSite), and every answer of /o/token, errors too, a `csrftoken` cookie
  (SameSite=Lax), each in a Set-Cookie header of its own. Like the server, the fake reads the
  access_token cookie as `Authorization: Bearer` on every request, in place of any Authorization header sent (a
  valid Bearer beside a stale cookie is 401), so a grant sent with it is a client
  authentication it cannot match: 401 {"error": "invalid_client"} (with a WWW-Authenticate
  header, unlike the API's 401s); it counts as a failed grant.
  Grants are throttled as badgr-server does, per username (or client_id; a refresh grant has
  neither, so all share one) from the fake's one client address: any non-2xx answer of /o/token
  starts a backoff of 2^n seconds (n failures in a row, at most 3600) by the fake's `clock`,
  during which every grant, even a correct one, is 429 text/html {"error_description": "Too
  many login attempts. Please wait and try again.", "error": "login attempts throttled",
  "expires": the whole period}, no Retry-After; a throttled grant does not count, a 2xx ends
  the backoff. `throttle_next(expires, times)` answers the next grants so at once.
  Access tokens live `expires_in` seconds (configurable: make them short-lived in tests);
  `expire_tokens()` expires every issued access token at once (the platform's clock, not ours).
- Any other route needs `Authorization: Bearer <live token>`, else 401 with the v2 envelope
  "no valid auth token found" and no WWW-Authenticate. Its answers are `application/json` when
  the Accept header asks for it, else `application/ld+json` (the API's first renderer).
- Another account's issuer or badge class (`foreign`), like an unknown one, is 404 with the v2
  envelope "entity not found or insufficient privileges" (the API never answers 403 for it).
- POST /v2/badgeclasses/{entityId}/assertions -> 201 {"status": {...}, "result": [assertion]}.
  400 "bad request" with badgr-server's fieldErrors for a recipient without identity or of an
  unknown type, an issuedOn or expires that is no ISO 8601 time, an issuedOn after the fake's
  `clock` (even by a second: "Only issuedOn dates in the past are acceptable.") or before 1583,
  an evidence item with neither url nor narrative, and (only when the fields pass) a missing
  recipient. A time without offset is taken as UTC; times come back in UTC with `Z` (microseconds
  only when there are some, as Django REST framework writes them). 404 for a badge class
  outside `badgeclasses` when that set is not empty. Duplicates are accepted, as Badgr does by
  default (allowDuplicateAwards): `assertions` records every one. With `notification_fails` every
  e-mail fails: an award the server e-mails (one asking `notify`, and the first to a recipient on
  the server whatever `notify` says: GDPR_COMPLIANCE_NOTIFY_ON_FIRST_AWARD) is saved, then
  answered 500 with Django's HTML error page (text/html).
- GET /v2/badgeclasses/{entityId}/assertions?recipient=<address>&num=N&include_expired=true
  &include_revoked=true -> the badge class's assertions (to those recipients), paged like the
  issuer's list below.
- GET /v2/issuers -> {"status", "result": [issuer]}: the issuers of `issuers` (the account is
  staff of every one).
- GET /v2/issuers/{entityId}/assertions?num=N&include_expired=true&include_revoked=true ->
  {"status", "result": [assertion]}. Like the real API, expired assertions (expires in the
  past) and revoked ones are left out unless their flag is `true` or `1`. Without `num`
  everything comes at once in the database's order (oldest first), no Link header; with it,
  newest first (-created_at), or oldest first with `oldest_first = True` (older servers;
  Canvas Credentials documents no order), pages of min(N, 500, `max_per_page`) and a
  `Link: <absolute url>; rel="next"` header while more follow, `, <url>; rel="prev"` too after
  the first page (the URLs keep every parameter and carry an opaque `cursor`, a position:
  assertions created meanwhile never shift the pages still to come). 404 for an unknown issuer.
- GET /v2/assertions/changed?since=<ISO 8601>&num=N -> {"status", "result",
  "pagination": {"hasNext", "nextResults", "hasPrevious", "previousResults"}, "timestamp"}:
  assertions of every issuer (revoked and expired ones too) whose updated_at is after `since`,
  ordered by updated_at, N a page (any positive N, no maximum), else `changed_page_size` (100,
  the server's page size), the cursor a position in that order; `timestamp` is the fake's clock
  read before the query (as Badgr does). A `since` without offset is read as UTC (the server's
  TIME_ZONE); 400 {"description": "bad request", "fieldErrors": {"since": [...]}} for one that
  is no ISO 8601 time (a `+` sent unencoded arrives as a space: refused too). `nextResults` is
  an absolute URL while `hasNext`, else null; `previousResults` one after the first page.
- `endless = True`: the lists and the changed feed link to a next page past their end too (empty
  pages that never stop, each with a new link: `page=N+1` beside the cursor), as a server with a
  paging bug answers.
- Assertions carry `course_url`; badge classes `course_url` and `expiration` (days, or null)
  where Badgr's documented shape has `expires`, as badgr-server answers.
- GET /v2/badgeclasses/{entityId} -> {"status", "result": [badge class]}: one added with
  `add_badgeclass`, or (with `badgeclasses` empty, or naming it) a made-up one; else 404.
- `add_issuer`, `add_badgeclass`, `add_assertion` (history: created and updated when you say)
  and `update_assertion` / `revoke` (a change: updated_at moves to the fake's `clock()`) fill it.
  Assertions issued with POST join the lists too.
- `fail_next(status, times, headers, delay, path)` serves canned failures first (only for
  requests whose path ends with `path`, when given); status 0 means "only the delay, then the
  normal answer" (what `delay_next` does: the request still takes effect, as on a real server
  whose answer was too slow); `truncate_next(times, path)` answers 200 with the first half of
  the real JSON body (a cut connection). `requests` records (method, path); `received` also the
  headers and the parsed body; `targets` (method, path?query) as sent; `grants` the grant
  types asked for.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

from fakes.server import PlatformFake, RawBody, header

Answer = tuple[int, dict, object]
RECIPIENT_TYPES = ("email", "url", "telephone", "openBadgeId")
GRANTED_SCOPE = "rw:profile rw:issuer rw:backpack"  # an account's password grant, whatever it asked
NOT_FOUND = "entity not found or insufficient privileges"  # the v2 answer for 404 and for 403 alike
DEFAULT_ISSUER = "Is4Jj5Kk6Ll7Mm8Nn9Oo0P"
MAX_PER_PAGE = 500  # the real API's largest `num`
TRUNCATED = -1  # a canned "status": answer 200 with the real body cut in half
THROTTLED = -2  # a canned "status": Badgr's throttling 429, the seconds to wait in its body
CSRF_COOKIE_AGE = 31449600  # Django's CSRF_COOKIE_AGE: a year
BACKOFF_CAP = 3600  # TOKEN_BACKOFF_MAXIMUM_SECONDS: the longest login backoff
INVALID_CLIENT = {"Cache-Control": "no-store", "WWW-Authenticate": 'Bearer, error="invalid_client"'}  # OAuth Toolkit's
HTML = {"Content-Type": "text/html; charset=utf-8"}  # Django's HttpResponse: JSON text, labelled HTML


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
        self.refresh_grant_fails = False
        self._backoffs: dict[object, tuple[int, datetime]] = {}  # username -> failures in a row, until
        self.assertions: list[dict] = []  # every assertion, issued by POST or added as history
        self.grants: list[str] = []
        self.issuers: dict[str, dict] = {}
        self.badgeclass_details: dict[str, dict] = {}
        self.max_per_page = MAX_PER_PAGE  # lower it so a test needs few assertions per page
        self.changed_page_size = 100
        self.oldest_first = False  # issuer and badge class lists in creation order, as older servers
        self.endless = False  # lists and the changed feed link to a next page past their end too
        self.foreign: set[str] = set()  # issuer and badge class ids of another account
        self.notification_fails = False
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.targets: list[tuple[str, str]] = []
        self._times: dict[str, tuple[datetime, datetime, int]] = {}  # entityId -> created, updated, pk
        self._pks = itertools.count(1)
        super().__init__(port)
        self.base_url = f"http://127.0.0.1:{self.port}"

    # -- lifecycle and controls --------------------------------------------------------------

    def truncate_next(self, times: int = 1, path: str | None = None) -> None:
        """The next answers (to paths ending with `path`) stop halfway through their JSON body."""
        self.fail_next(TRUNCATED, times, path=path)

    def add_issuer(self, entity_id: str, name: str | None = None) -> dict:
        issuer = {
            "entityType": "Issuer",
            "entityId": entity_id,
            "openBadgeId": f"{self.base_url}/public/issuers/{entity_id}",
            "name": name or f"Issuer {entity_id}",
            "email": "badges@example.com",
            "url": "https://example.com",
        }
        with self._lock:
            self.issuers[entity_id] = issuer
        return issuer

    def add_badgeclass(self, entity_id: str, name: str, issuer: str = DEFAULT_ISSUER, description: str = "") -> dict:
        badgeclass = _badgeclass(self.base_url, entity_id, issuer, name, description)
        with self._lock:
            self.badgeclass_details[entity_id] = badgeclass
        return badgeclass

    def add_assertion(
        self,
        badgeclass: str,
        email: str,
        issued_on: datetime,
        *,
        issuer: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        expires: datetime | None = None,
        revoked: bool = False,
        revocation_reason: str | None = None,
        entity_id: str | None = None,
    ) -> dict:
        """History: an assertion created (default: when issued) and last updated (default: when
        created) at the given times, listed like one issued through the API."""
        known = self.badgeclass_details.get(badgeclass)
        issuer = issuer or (known["issuer"] if known else DEFAULT_ISSUER)
        created = created_at or issued_on
        assertion = self._assertion(
            badgeclass,
            {
                "recipient": {"identity": email},
                "issuedOn": _iso(issued_on),
                "expires": _iso(expires) if expires else None,
            },
            issuer=issuer,
            entity_id=entity_id,
            created=created,
        )
        assertion.update(revoked=revoked, revocationReason=revocation_reason if revoked else None)
        with self._lock:
            self._store(assertion, created, updated_at or created)
        return assertion

    def update_assertion(self, entity_id: str, **changes: object) -> dict:
        """A change on the platform: the assertion's fields, and its updated_at now (the fake's clock)."""
        with self._lock:
            assertion = next(a for a in self.assertions if a["entityId"] == entity_id)
            assertion.update(changes)
            created, _, pk = self._times[entity_id]
            self._times[entity_id] = (created, self.clock(), pk)
        return assertion

    def revoke(self, entity_id: str, reason: str = "Revoked by the issuer") -> dict:
        return self.update_assertion(entity_id, revoked=True, revocationReason=reason)

    def throttle_next(self, expires: int, times: int = 1, path: str | None = "/o/token") -> None:
        """The next answers (to paths ending with `path`) are Badgr's throttling 429."""
        self.fail_next(THROTTLED, times, headers={"expires": str(expires)}, path=path)

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self.tokens.values():
                token.expires_at = 0.0

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        parsed = _parse(body, header(headers, "Content-Type") or "")
        with self._lock:
            self.targets.append((method, target))
        failure = self._record(method, path, headers, parsed)
        if failure and failure.status == THROTTLED:
            return _throttled(int(failure.headers["expires"]))
        if failure and failure.status != TRUNCATED:
            return failure.status, failure.headers, _envelope(False, f"canned {failure.status}")
        try:
            answer = _negotiated(path, headers, self._route(method, path, query, _cookie_as_bearer(headers), parsed))
        except Exception as error:  # a bug in the fake must look like a 500, not a dropped socket
            return 500, {}, _envelope(False, f"fake Badgr failed: {type(error).__name__}: {error}")
        if failure:  # the connection dropped mid-body: half a JSON document
            text = json.dumps(answer[2]).encode()
            return 200, answer[1], RawBody(text[: len(text) // 2])
        return answer

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: object
    ) -> Answer:
        if path == "/o/token":
            if method != "POST":
                return 405, {}, None
            return self._token_endpoint(headers, body if isinstance(body, dict) else {})
        if not self._live(header(headers, "Authorization") or ""):
            return 401, {}, _envelope(False, "no valid auth token found", fieldErrors={}, validationErrors=[])
        parts = path.strip("/").split("/")
        class_assertions = len(parts) == 4 and parts[:2] == ["v2", "badgeclasses"] and parts[3] == "assertions"
        if method == "POST" and class_assertions:
            return self._assert(parts[2], body if isinstance(body, dict) else {})
        if method == "GET" and class_assertions:
            return self._badgeclass_assertions(path, parts[2], query)
        if method == "GET" and parts == ["v2", "issuers"]:
            with self._lock:
                return 200, {}, _envelope(True, "ok", list(self.issuers.values()))
        if method == "GET" and len(parts) == 4 and parts[:2] == ["v2", "issuers"] and parts[3] == "assertions":
            return self._issuer_assertions(path, parts[2], query)
        if method == "GET" and parts == ["v2", "assertions", "changed"]:
            return self._changed(path, query)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v2", "badgeclasses"]:
            return self._badgeclass(parts[2])
        return _not_found()

    def _live(self, authorization: str) -> bool:
        scheme, _, value = authorization.partition(" ")
        with self._lock:
            token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            return token is not None and token.expires_at > time.monotonic()

    # -- OAuth2 ------------------------------------------------------------------------------

    def _token_endpoint(self, headers: dict[str, str], form: dict) -> Answer:
        """/o/token: a token answer sets the tokens as cookies; every answer a csrftoken cookie."""
        username = form.get("username", form.get("client_id"))
        backoff = self._backoff(username)
        if backoff is not None:
            return _throttled(backoff)
        if header(headers, "Authorization"):  # not a client this server knows
            status, extra, body = 401, INVALID_CLIENT, {"error": "invalid_client"}
        else:
            status, extra, body = self._token(form)
        self._count(username, status)
        tokens = body if status == 200 and isinstance(body, dict) else {}
        now = time.time()
        cookies = [
            _cookie(name, str(tokens[name]), int(tokens["expires_in"]), now, "HttpOnly; ")
            for name in ("access_token", "refresh_token")
            if tokens.get(name)
        ]
        return status, {**extra, **_set_cookies(*cookies, _csrf_cookie(now))}, body

    def _backoff(self, username: object) -> int | None:
        """The whole period of the backoff under way for this username; None when none is."""
        with self._lock:
            failures, until = self._backoffs.get(username, (0, None))
        return _backoff_seconds(failures) if until is not None and until > self.clock() else None

    def _count(self, username: object, status: int) -> None:
        """A 2xx ends the backoff, anything else starts a longer one (from one again when the
        last ended over an hour ago: the server's cache entry has lapsed)."""
        now = self.clock()
        with self._lock:
            failures, until = self._backoffs.pop(username, (0, now))
            if not 200 <= status < 300:
                failures = failures + 1 if until > now - timedelta(hours=1) else 1
                self._backoffs[username] = (failures, now + timedelta(seconds=_backoff_seconds(failures)))

    def _token(self, form: dict) -> Answer:
        grant = str(form.get("grant_type") or "password")  # Badgr's docs omit it for the password grant
        with self._lock:
            self.grants.append(grant)
        if grant == "password":
            if (form.get("username"), form.get("password")) != (self.username, self.password):
                return _oauth_error("invalid_grant", "Invalid credentials given.")
        elif grant == "refresh_token":
            if self.refresh_grant_fails:
                return 401, HTML, {"error": "Token refresh failed!"}
            with self._lock:
                live = form.get("refresh_token") in self.refresh_tokens and not self.refuse_refresh
                self.refresh_tokens.discard(str(form.get("refresh_token")))  # rotated: single use
            if not live:
                return _oauth_error("invalid_grant", "Invalid refresh token.")
        else:
            return _oauth_error("unsupported_grant_type", f"{grant} is not supported")
        return 200, {"Cache-Control": "no-store"}, self._issue_token(GRANTED_SCOPE)

    def _issue_token(self, scope: str) -> dict:
        access, refresh = uuid.uuid4().hex, uuid.uuid4().hex
        with self._lock:
            self.tokens[access] = _Token(time.monotonic() + self.expires_in, scope, refresh)
            self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "scope": scope,
        }

    # -- assertions --------------------------------------------------------------------------

    def _visible(self, badgeclass: str) -> bool:
        return badgeclass not in self.foreign and (not self.badgeclasses or badgeclass in self.badgeclasses)

    def _assert(self, badgeclass: str, payload: dict) -> Answer:
        if not self._visible(badgeclass):
            return _not_found()
        errors = _assertion_errors(payload, self.clock())
        if errors:
            return 400, {}, _envelope(False, "bad request", fieldErrors=errors, validationErrors=[])
        known = self.badgeclass_details.get(badgeclass)
        assertion = self._assertion(badgeclass, payload, issuer=known["issuer"] if known else DEFAULT_ISSUER)
        identity = assertion["recipient"]["plaintextIdentity"].lower()
        with self._lock:
            first = all(a["recipient"]["plaintextIdentity"].lower() != identity for a in self.assertions)
            now = self.clock()
            self._store(assertion, now, now)
        if self.notification_fails and (first or str(payload.get("notify")).lower() in ("true", "1")):
            return 500, HTML, RawBody(b"<h1>Server Error (500)</h1>")  # Django's page, after the save
        return 201, {}, _envelope(True, "ok", [assertion])

    def _store(self, assertion: dict, created: datetime, updated: datetime) -> None:
        """Under the lock."""
        self.assertions.append(assertion)
        self._times[assertion["entityId"]] = (created, updated, next(self._pks))

    def _assertion(
        self,
        badgeclass: str,
        payload: dict,
        issuer: str = DEFAULT_ISSUER,
        entity_id: str | None = None,
        created: datetime | None = None,
    ) -> dict:
        recipient = payload["recipient"]
        identity, salt = str(recipient["identity"]), uuid.uuid4().hex
        hashed = recipient.get("hashed", True) is not False
        entity = entity_id or uuid.uuid4().hex[:22]
        now = _iso(created or self.clock())
        return {
            "entityType": "Assertion",
            "entityId": entity,
            "openBadgeId": f"{self.base_url}/public/assertions/{entity}",
            "createdAt": now,
            "createdBy": "fakeIssuerStaff",
            "badgeclass": badgeclass,
            "badgeclassOpenBadgeId": f"{self.base_url}/public/badges/{badgeclass}",
            "issuer": issuer,
            "issuerOpenBadgeId": f"{self.base_url}/public/issuers/{issuer}",
            "image": f"{self.base_url}/media/assertion-{entity}.png",
            "recipient": {
                "identity": "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest() if hashed else identity,
                "salt": salt if hashed else None,
                "hashed": hashed,
                "type": recipient.get("type", "email"),
                "plaintextIdentity": identity,
            },
            "issuedOn": _iso(_parse_time(payload["issuedOn"])) if payload.get("issuedOn") else now,
            "narrative": payload.get("narrative"),
            "evidence": payload.get("evidence") or [],
            "revoked": False,
            "revocationReason": None,
            "acceptance": "Unaccepted",
            "expires": _iso(_parse_time(payload["expires"])) if payload.get("expires") else None,
            "course_url": payload.get("course_url"),
            "extensions": {},
        }

    # -- reading -----------------------------------------------------------------------------

    def _issuer_assertions(self, path: str, issuer: str, query: dict[str, list[str]]) -> Answer:
        with self._lock:
            if issuer not in self.issuers or issuer in self.foreign:
                return _not_found()
            rows = [(self._times[a["entityId"]], a) for a in self.assertions if a.get("issuer") == issuer]
        return self._listing(path, query, rows)

    def _badgeclass_assertions(self, path: str, badgeclass: str, query: dict[str, list[str]]) -> Answer:
        if not self._visible(badgeclass):
            return _not_found()
        recipients = {value.lower() for value in query.get("recipient", [])}
        with self._lock:
            rows = [
                (self._times[a["entityId"]], a)
                for a in self.assertions
                if a.get("badgeclass") == badgeclass
                and (not recipients or a["recipient"]["plaintextIdentity"].lower() in recipients)
            ]
        return self._listing(path, query, rows)

    def _listing(self, path: str, query: dict[str, list[str]], rows: list) -> Answer:
        """Assertion rows ((created, updated, pk), assertion) as the list endpoints answer them."""
        now = self.clock()
        if not _flag(query, "include_expired"):
            rows = [(t, a) for t, a in rows if not (a.get("expires") and _parse_time(a["expires"]) < now)]
        if not _flag(query, "include_revoked"):
            rows = [(t, a) for t, a in rows if not a.get("revoked")]
        num = _first(query, "num")
        try:
            per = max(1, min(int(num), MAX_PER_PAGE, self.max_per_page)) if num else None
        except ValueError:
            per = None  # like Badgr: an unreadable num means no paging
        if per is None:  # everything, in the database's order (creation), no Link
            return 200, {}, _envelope(True, "ok", [a for _, a in sorted(rows, key=lambda row: row[0][2])])
        newest_first = not self.oldest_first
        rows.sort(key=lambda row: (row[0][0], row[0][2]), reverse=newest_first)  # -created_at (then pk)
        keys = [(_key(t[0]), t[2]) for t, _ in rows]
        cursor = _decode_cursor(_first(query, "cursor"))
        start = _page_start(keys, cursor, per, (lambda k, p: k < p) if newest_first else (lambda k, p: k > p))
        page = rows[start : start + per]
        links = []
        if start + per < len(rows):
            links.append(f'<{self._link(path, query, keys[start + per - 1])}>; rel="next"')
        elif self.endless:
            last = keys[start + len(page) - 1] if page else (cursor[0] if cursor else None)
            links.append(f'<{self._beyond(path, query, last)}>; rel="next"')
        if page and start > 0:
            links.append(f'<{self._link(path, query, keys[start], before=True)}>; rel="prev"')
        return 200, {"Link": ", ".join(links)} if links else {}, _envelope(True, "ok", [a for _, a in page])

    def _changed(self, path: str, query: dict[str, list[str]]) -> Answer:
        stamp = self.clock()  # before the query, as Badgr takes it
        since_text = _first(query, "since")
        since = _time_or_none(since_text) if since_text is not None else None
        if since_text is not None and since is None:
            errors = {"since": ["must be ISO-8601 format with time zone"]}
            return 400, {}, _envelope(False, "bad request", fieldErrors=errors, validationErrors=[])
        with self._lock:
            rows = [
                (self._times[a["entityId"]], a)
                for a in self.assertions
                if a.get("issuer") in self.issuers and (since is None or self._times[a["entityId"]][1] > since)
            ]
        rows.sort(key=lambda row: (row[0][1], row[0][2]))  # updated_at (then the primary key)
        keys = [(_key(t[1]), t[2]) for t, _ in rows]
        per = _page_size(_first(query, "num"), self.changed_page_size)
        cursor = _decode_cursor(_first(query, "cursor"))
        start = _page_start(keys, cursor, per, lambda key, position: key > position)
        page = rows[start : start + per]
        more = start + per < len(rows)
        last_key = keys[start + len(page) - 1] if page else (cursor[0] if cursor else None)
        following = (
            self._link(path, query, last_key) if more else self._beyond(path, query, last_key) if self.endless else None
        )
        previous = self._link(path, query, keys[start], before=True) if page and start > 0 else None
        pagination = {
            "hasNext": following is not None,
            "nextResults": following,
            "hasPrevious": start > 0,
            "previousResults": previous,
        }
        return 200, {}, _envelope(True, "ok", [a for _, a in page], pagination=pagination, timestamp=stamp.isoformat())

    def _badgeclass(self, entity_id: str) -> Answer:
        with self._lock:
            known = self.badgeclass_details.get(entity_id)
        if entity_id in self.foreign or (known is None and not self._visible(entity_id)):
            return _not_found()
        known = known or _badgeclass(self.base_url, entity_id, DEFAULT_ISSUER, f"Badge class {entity_id}", "")
        return 200, {}, _envelope(True, "ok", [known])

    def _beyond(self, path: str, query: dict[str, list[str]], position: tuple[str, int] | None) -> str:
        """`endless`: a next link past the end, new each time (`page` counts the pages past it)."""
        past = int(_first(query, "page") or 0) + 1
        return self._link(path, {**query, "page": [str(past)]}, position)

    def _link(
        self, path: str, query: dict[str, list[str]], position: tuple[str, int] | None, before: bool = False
    ) -> str:
        """The next page: the same request (every parameter kept) with the cursor after `position`
        (`before`: the previous page, the one that ends before `position`)."""
        kept = [(key, value) for key, values in query.items() if key != "cursor" for value in values]
        cursor = base64.urlsafe_b64encode(json.dumps({"before": position} if before else position).encode()).decode()
        return f"{self.base_url}{path}?{urlencode([*kept, ('cursor', cursor)])}"


def _assertion_errors(payload: dict, now: datetime) -> dict:
    """badgr-server's field errors: each field's first, the missing recipient only when they pass."""
    recipient = payload.get("recipient")
    errors: dict = {"recipient": _recipient_errors(recipient)} if isinstance(recipient, dict) else {}
    errors.update(
        {
            field: [problem]
            for field in ("issuedOn", "expires")
            if (problem := _time_problem(payload.get(field), now if field == "issuedOn" else None))
        }
    )
    evidence = payload.get("evidence") or []
    usable = lambda item: isinstance(item, dict) and bool(item.get("url") or item.get("narrative"))  # noqa: E731
    if isinstance(evidence, list) and not all(usable(item) for item in evidence):
        errors["evidence"] = [
            {} if usable(item) else {"non_field_errors": ["Either url or narrative is required"]} for item in evidence
        ]
    errors = {field: problem for field, problem in errors.items() if problem}
    return errors or ({} if isinstance(recipient, dict) else {"recipient": ["This field is required"]})


def _recipient_errors(recipient: dict) -> dict[str, list[str]]:
    errors = {} if recipient.get("identity") else {"identity": ["This field is required."]}
    if recipient.get("type", "email") not in RECIPIENT_TYPES:
        errors["type"] = [f'"{recipient["type"]}" is not a valid choice.']
    return errors


def _time_problem(value: object, latest: datetime | None) -> str | None:
    """What the serializer says of an issuedOn (`latest`: the server's now) or expires; None: fine."""
    moment = _time_or_none(value) if isinstance(value, str) else None
    if value is not None and moment is None:
        return (
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
        )
    if moment is not None and latest is not None and moment > latest:
        return "Only issuedOn dates in the past are acceptable."
    if moment is not None and latest is not None and moment.year < 1583:
        return "Only issuedOn dates after the introduction of the Gregorian calendar are allowed."
    return None


def _badgeclass(base_url: str, entity_id: str, issuer: str, name: str, description: str) -> dict:
    return {
        "entityType": "BadgeClass",
        "entityId": entity_id,
        "openBadgeId": f"{base_url}/public/badges/{entity_id}",
        "createdAt": "2026-01-05T09:00:00Z",
        "createdBy": "fakeIssuerStaff",
        "issuer": issuer,
        "issuerOpenBadgeId": f"{base_url}/public/issuers/{issuer}",
        "name": name,
        "image": f"{base_url}/media/badge-{entity_id}.png",
        "description": description or name,
        "course_url": None,
        "criteriaUrl": None,
        "criteriaNarrative": f"Earn {name}.",
        "alignments": [],
        "tags": [],
        "expiration": None,
        "extensions": {},  # expiration: days an assertion lasts (badgr-server's, not `expires`)
    }


def _iso(moment: datetime) -> str:
    """As Django REST framework writes a time: UTC with `Z`, microseconds only when there are some."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _key(moment: datetime) -> str:
    """A time that sorts as text: UTC, always with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time_or_none(text: str) -> datetime | None:
    """An ISO 8601 time, in UTC when it has no offset (as the server reads one); None when it is none."""
    try:
        return _parse_time(text)
    except ValueError:
        return None


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _flag(query: dict[str, list[str]], key: str) -> bool:
    return (_first(query, key) or "").lower() in ("1", "true")


def _decode_cursor(cursor: str | None) -> tuple[tuple[str, int], bool] | None:
    """A cursor's position, and whether it asks for the page before it; None when there is none."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        before = isinstance(value, dict)
        created, pk = value["before"] if before else value
        return (str(created), int(pk)), before
    except (ValueError, TypeError, KeyError):
        return None


def _page_start(
    keys: list,
    cursor: tuple[tuple[str, int], bool] | None,
    per: int,
    after: Callable[[tuple[str, int], tuple[str, int]], bool],
) -> int:
    """Where the page a cursor asks for starts: right after its position, or (a previous link)
    `per` rows before it. `after` says whether a key comes after a position in the list's order."""
    if cursor is None:
        return 0
    position, before = cursor
    if before:
        end = next((i for i, key in enumerate(keys) if key == position or after(key, position)), len(keys))
        return max(0, end - per)
    return next((i for i, key in enumerate(keys) if after(key, position)), len(keys))


def _page_size(num: str | None, default: int) -> int:
    """The changed feed's page: `num` when a positive integer (no maximum), else the default."""
    try:
        return int(num) if num and int(num) > 0 else default
    except ValueError:
        return default


def _not_found() -> Answer:
    return 404, {}, _envelope(False, NOT_FOUND, fieldErrors={}, validationErrors=[])


def _cookie_as_bearer(headers: dict[str, str]) -> dict[str, str]:
    """The server reads an `access_token` cookie as the Bearer header, in place of any sent."""
    cookie = SimpleCookie()
    cookie.load(header(headers, "Cookie") or "")
    token = cookie.get("access_token")
    if token is None:
        return headers
    others = {name: value for name, value in headers.items() if name.lower() != "authorization"}
    return {**others, "Authorization": f"Bearer {token.value}"}


def _backoff_seconds(failures: int) -> int:
    return min(BACKOFF_CAP, 2 ** min(12, failures))


def _throttled(expires: int) -> Answer:
    """The throttled token endpoint's answer: the wait in its body, no Retry-After."""
    body = {
        "error_description": "Too many login attempts. Please wait and try again.",
        "error": "login attempts throttled",
        "expires": expires,
    }
    return 429, {**HTML, **_set_cookies(_csrf_cookie(time.time()))}, body


def _cookie(name: str, value: str, max_age: int, now: float, flags: str = "") -> str:
    """A Set-Cookie value as Django writes it."""
    return f"{name}={value}; expires={formatdate(now + max_age, usegmt=True)}; {flags}Max-Age={max_age}; Path=/"


def _csrf_cookie(now: float) -> str:
    return _cookie("csrftoken", uuid.uuid4().hex, CSRF_COOKIE_AGE, now) + "; SameSite=Lax"


def _set_cookies(*cookies: str) -> dict[str, str]:
    """Several Set-Cookie headers in the answer's one-value-per-name headers: the name in another
    letter case each time (header names are case-insensitive; clients read them as one list)."""
    names = ("Set-Cookie", "set-cookie", "SET-COOKIE", "Set-cookie")
    return dict(zip(names, cookies, strict=False))  # one name per cookie: fewer cookies than names


def _negotiated(path: str, headers: dict[str, str], answer: Answer) -> Answer:
    """The API's JSON answers: JSON-LD unless the client asks for JSON (the token endpoint's are JSON)."""
    status, extra, body = answer
    if path == "/o/token" or isinstance(body, RawBody) or header(extra, "Content-Type"):
        return answer
    asked = "application/json" in (header(headers, "Accept") or "")
    return status, {**extra, "Content-Type": "application/json" if asked else "application/ld+json"}, body


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
