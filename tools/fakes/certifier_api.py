"""A local fake of Certifier's API, with Bearer auth and its version header.

- Every request needs `Authorization: Bearer <token>` (else 401) and `Certifier-Version`
  (else 400).
- GET  /v1/credentials/{id}        -> 200 <credential> or 404.
- POST /v1/credentials             -> 201 <draft credential> {id, publicId, groupId, status:
  "draft", recipient, issueDate, expiryDate, customAttributes, createdAt, updatedAt}; 422 for a
  missing groupId, recipient.name or recipient.email, an issueDate that is not YYYY-MM-DD, or a
  customAttributes key not starting with "custom."; 404 for a group outside `groups` when that
  set is not empty.
- POST /v1/credentials/{id}/issue  -> 200 <credential> with status "issued" and issuedAt;
  422 "Credential is already issued" for one that is not a draft; 404 for an unknown id.
- GET  /v1/credentials?cursor=&limit=              -> 200 {"data": [credential, ...],
  "pagination": {"prev": cursor or null, "next": cursor or null}}, every status, oldest first.
- GET  /v1/credential-interactions?credentialId=&cursor=&limit=
                                                   -> the same shape, items {id, credentialId,
  eventType, triggeredBy, triggeredAt}; only that credential's with `credentialId`, else all.
  Lists: `limit` defaults to 20 (Certifier's default) and must be 1..100 (else 400
  validation_error); `page_size` caps every page (small values make paging visible in tests).
  Cursors are opaque keyset tokens (what follows a given record), so records added meanwhile join
  the end and never shift the pages still to come; an unreadable cursor is a 400. `endless =
  True`: every list page names a next cursor, past the end too (empty pages without end, each
  with a new cursor), as a server with a paging bug answers.
- GET  /v1/groups/{id}                             -> 200 {id, name, ...}: the group given to
  `add_group`, else (while `groups` is empty, or it lists the id) one named "Group <id>"; 404.
- `drip_next(interval, times, head)` sends the next answers a byte at a time; `set_cookie(value)`
  sets a cookie on every answer (`cookies_received`: what clients sent back).
- `fail_next(status, times, headers, delay, path)` serves canned failures first (only to paths
  ending with `path` when given, e.g. "/issue"); status 0 means "only the delay, then the normal
  answer", which still takes effect (`delay_next`); `truncate_next(times, path)` answers 200 with
  the first half of the real JSON body (a cut connection). `requests` records (method, path),
  `targets` (method, path?query), `received` also headers and parsed bodies; `created` the create
  bodies; `issued` the issued credentials.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import uuid
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, unquote, urlsplit

from fakes.server import PlatformFake, RawBody, header, is_iso_date

Answer = tuple[int, dict, object]
TRUNCATED = -1  # a canned "status": answer the real body cut in half
DEFAULT_LIMIT = 20  # Certifier's documented default page size
MAX_LIMIT = 100  # its documented largest


def _error(status: int, message: str, code: str | None = None) -> Answer:
    return status, {}, {"error": {**({"code": code} if code else {}), "message": message}}


class FakeCertifier(PlatformFake):
    def __init__(self, token: str, port: int = 0, page_size: int = MAX_LIMIT) -> None:
        self.token = token
        self.page_size = page_size
        self.groups: set[str] = set()  # empty: every group exists
        self.group_details: dict[str, dict] = {}
        self.credentials: dict[str, dict] = {}  # in the order they were added: lists answer in this order
        self.interactions: list[dict] = []
        self.created: list[dict] = []
        self.targets: list[tuple[str, str]] = []
        self.endless = False  # list pages name a next cursor past the end too
        self._sequence = itertools.count(1)
        self._order: dict[str, int] = {}  # credential id -> its place in the list (keyset cursors)
        super().__init__(port)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle and controls --------------------------------------------------------------

    def add_credential(self, credential: dict) -> None:
        with self._lock:
            self.credentials[credential["id"]] = credential
            self._order.setdefault(credential["id"], next(self._sequence))

    def add_interaction(self, interaction: dict) -> None:
        """One of GET /credential-interactions' items: {id, credentialId, eventType, triggeredBy, triggeredAt}."""
        with self._lock:
            self.interactions.append(interaction)

    def add_group(self, group: dict) -> None:
        with self._lock:
            self.group_details[group["id"]] = group

    def truncate_next(self, times: int = 1, path: str | None = None) -> None:
        """The next answers (to paths ending with `path`) stop halfway through their JSON body."""
        self.fail_next(TRUNCATED, times, path=path)

    @property
    def issued(self) -> list[dict]:
        with self._lock:
            return [c for c in self.credentials.values() if c.get("status") == "issued"]

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        split = urlsplit(target)
        path, query = split.path, parse_qs(split.query)
        parsed = _json(body)
        with self._lock:
            self.targets.append((method, target))
        failure = self._record(method, path, headers, parsed)
        if failure and failure.status != TRUNCATED:
            return _error(failure.status, f"canned {failure.status}")
        try:
            answer = self._route(method, path, query, headers, parsed)
        except Exception as error:  # a bug in the fake must look like a 500, not a dropped socket
            return _error(500, f"fake Certifier failed: {type(error).__name__}: {error}")
        if failure:  # the connection dropped mid-body: half a JSON document, as a 200
            text = json.dumps(answer[2]).encode()
            return 200, {}, RawBody(text[: len(text) // 2])
        return answer

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: object
    ) -> Answer:
        if header(headers, "Authorization") != f"Bearer {self.token}":
            return _error(401, "A valid authentication token was not provided with the request", "unauthorized")
        if not header(headers, "Certifier-Version"):
            return _error(400, "The request is missing the required Certifier-Version header", "missing_version")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and parts == ["v1", "credentials"]:
            return self._credential_list(query)
        if method == "GET" and parts == ["v1", "credential-interactions"]:
            return self._interaction_list(query)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "groups"]:
            return self._group(parts[2])
        if parts[:2] != ["v1", "credentials"]:
            return _error(404, "Not found")
        if method == "POST" and len(parts) == 2:
            return self._create(body if isinstance(body, dict) else {})
        if method == "POST" and len(parts) == 4 and parts[3] == "issue":
            return self._issue(parts[2])
        with self._lock:
            credential = self.credentials.get(parts[2]) if len(parts) == 3 else None
        if method != "GET" or credential is None:
            return _error(404, "Not found")
        return 200, {}, credential

    # -- lists -------------------------------------------------------------------------------

    def _credential_list(self, query: dict[str, list[str]]) -> Answer:
        with self._lock:
            records = [(self._order[c["id"]], dict(c)) for c in self.credentials.values()]
        return self._list_page(sorted(records, key=lambda r: r[0]), query)

    def _interaction_list(self, query: dict[str, list[str]]) -> Answer:
        wanted = _first(query, "credentialId")
        with self._lock:
            records = [
                (n, dict(i))
                for n, i in enumerate(self.interactions, 1)
                if wanted is None or i.get("credentialId") == wanted
            ]
        return self._list_page(records, query)

    def _list_page(self, records: list[tuple[int, dict]], query: dict[str, list[str]]) -> Answer:
        """A page of records (ordered by their keyset number) after or before the cursor."""
        try:
            limit = int(_first(query, "limit") or DEFAULT_LIMIT)
        except ValueError:
            return _error(400, "limit must be an integer", "validation_error")
        if not 1 <= limit <= MAX_LIMIT:
            return _error(400, f"limit must be between 1 and {MAX_LIMIT}", "validation_error")
        size = min(limit, self.page_size)
        cursor = _first(query, "cursor")
        mark = _read_cursor(cursor) if cursor else ("after", 0)
        if mark is None:
            return _error(400, "Invalid cursor", "validation_error")
        direction, key = mark
        if direction == "after":
            chunk = [r for r in records if r[0] > key][:size]
        else:
            chunk = [r for r in records if r[0] < key][-size:]
        more_after = bool(chunk) and any(r[0] > chunk[-1][0] for r in records)
        more_before = bool(chunk) and any(r[0] < chunk[0][0] for r in records)
        following = _cursor("after", chunk[-1][0]) if more_after else None
        if self.endless and following is None:  # past the end, each empty page a step further
            following = _cursor("after", max(key, chunk[-1][0] if chunk else 0) + 1)
        pagination = {"prev": _cursor("before", chunk[0][0]) if more_before else None, "next": following}
        return 200, {}, {"data": [record for _, record in chunk], "pagination": pagination}

    def _group(self, group_id: str) -> Answer:
        with self._lock:
            group = self.group_details.get(group_id)
            exists = group is not None or not self.groups or group_id in self.groups
        if not exists:
            return _error(404, "The requested resource does not exist", "not_found")
        now = _now()
        return 200, {}, group or {"id": group_id, "name": f"Group {group_id}", "createdAt": now, "updatedAt": now}

    # -- create and issue --------------------------------------------------------------------

    def _create(self, payload: dict) -> Answer:
        problem = _create_problem(payload)
        if problem:
            return _error(422, problem)
        if self.groups and payload["groupId"] not in self.groups:
            return _error(404, f"Group {payload['groupId']} not found")
        now = _now()
        credential = {
            "id": uuid.uuid4().hex[:26].upper(),
            "publicId": str(uuid.uuid4()),
            "groupId": payload["groupId"],
            "status": "draft",
            "recipient": payload["recipient"],
            "issueDate": payload.get("issueDate") or date.today().isoformat(),
            "expiryDate": payload.get("expiryDate"),
            "customAttributes": payload.get("customAttributes") or {},
            "createdAt": now,
            "updatedAt": now,
        }
        with self._lock:
            self.created.append(payload)
            self.credentials[credential["id"]] = credential
            self._order[credential["id"]] = next(self._sequence)
        return 201, {}, credential

    def _issue(self, credential_id: str) -> Answer:
        with self._lock:
            credential = self.credentials.get(credential_id)
            if credential is None:
                return _error(404, "Not found")
            if credential.get("status") != "draft":
                return _error(422, f"Credential is already {credential.get('status')}")
            credential.update(status="issued", issuedAt=_now(), updatedAt=_now())
            return 200, {}, dict(credential)


def _create_problem(payload: dict) -> str | None:
    recipient = payload.get("recipient") if isinstance(payload.get("recipient"), dict) else {}
    missing = [
        name
        for name, value in (
            ("groupId", payload.get("groupId")),
            ("recipient.name", recipient.get("name")),
            ("recipient.email", recipient.get("email")),
        )
        if not value
    ]
    if missing:
        return f"{', '.join(missing)} required"
    if payload.get("issueDate") and not is_iso_date(str(payload["issueDate"])):
        return "issueDate must be a date (YYYY-MM-DD)"
    attributes = payload.get("customAttributes") or {}
    if not isinstance(attributes, dict) or any(not str(k).startswith("custom.") for k in attributes):
        return 'customAttributes keys must start with "custom."'
    return None


def _first(query: dict[str, list[str]], key: str) -> str | None:
    return (query.get(key) or [None])[0]


def _cursor(direction: str, key: int) -> str:
    """An opaque cursor, as Certifier's are: what follows (or precedes) the record numbered `key`."""
    return base64.urlsafe_b64encode(json.dumps([direction, key]).encode()).decode().rstrip("=")


def _read_cursor(text: str) -> tuple[str, int] | None:
    try:
        direction, key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if direction not in ("after", "before") or not isinstance(key, int) or isinstance(key, bool):
        return None
    return direction, key


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _json(body: bytes) -> object:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
