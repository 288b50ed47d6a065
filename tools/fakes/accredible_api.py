"""A local fake of Accredible's API in its documented shapes (accredible/api-documentation,
openapi.json and apiary.apib), failing the way it does.

- Auth: `Authorization: Token token=<API key>`; anything else -> 401 {"error": ...}.
- POST /v1/credentials with {"credential": {...}} -> 200 {"credential": <created>} in the shape of
  tests/fixtures/accredible (numeric id, recipient with a platform-assigned numeric id and the
  meta_data sent, group {id, name, course_name}, url, dates). 422 {"errors": {field: [msg]}}
  for a missing recipient.name, recipient.email or group_id, a malformed email, an issued_on
  that is not YYYY-MM-DD, or an evidence item without url or string_object; 422 for a group
  outside `groups` when that mapping is not empty. Accredible does not refuse a second
  credential in the same group for the same recipient: neither does the fake.
- POST /v2/credentials/search {"query": {...}, "sort": {key: "asc"|"desc"}, "page": {"size",
  "from" | "cursor"}} -> {"credentials": [<v2 shape: recipient_name, recipient_email,
  recipient_meta_data, group {id, name, course_name}, updated_at, ...>], "meta": {"count",
  "from", "size", "cursor"}}. `query` is required; its keys are `field` or `field[op]` with op
  eq, in, lt, lte, gt, gte. Applied: updated_at, created_at, issued_on, expired_on (dates,
  YYYY-MM-DD, compared with the record's UTC date), approve, group.id, id, recipient_email.
  Anything else, a date that is not YYYY-MM-DD, a sort key other than the documented id,
  recipient_name, group.name, issued_on and expired_on, `from` with `cursor`, or `from` + size
  past 10,000 -> 400 {"code": 400, "message", "status": "invalid_search_query", "errors": {}}.
  Cursor paging is search_after: the cursor (opaque, URL-safe base64) names the last record's
  sort key and id, and the next page starts after it on the data as it is then; the last page
  answers `cursor: null`. size is capped at `max_page_size` (100; tests make it smaller).
- GET /v1/analytics?start_date=&end_date=&page=&page_size= -> {"analytics": [{"credential":
  {"id", "license_id"}, "event", "created_at"}], "meta": {"current_page", "next_page",
  "prev_page", "total_pages", "total_count"}}: events recorded strictly after start_date and
  strictly before end_date (YYYY-MM-DD, or the deprecated YYYY/MM/DD; anything else -> 400),
  oldest first, page_size (default 100) capped at `max_page_size`.
- GET /v1/credentials/{id} -> {"credential": <v1 shape: id as text, recipient {name, email, id,
  meta_data}, group_id, group_name, url, ...>}; 404 {"errors": "Doesn't exist"}.
- `add_credential(...)` / `update_credential(id, **fields)` (bumps updated_at) /
  `add_event(credential_id, event, created_at)` set up what the API answers.
- `drip_next(interval, times, head)` sends the next answers a byte at a time; `set_cookie(value)`
  sets a cookie on every answer (`cookies_received`: what clients sent back).
- `fail_next(status, times, headers, delay, path)` serves canned failures first (status 0: only
  the delay, then the normal answer, which still takes effect); `truncate_next(times, path)` cuts
  the next answers' JSON in half (200, as a dropped connection leaves it); `requests` records
  (method, path), `targets` (method, path?query), `received` also headers and parsed bodies,
  `stamps` the time.monotonic() of each; `credentials` every credential.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
import uuid
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, unquote, urlsplit

from fakes.server import PlatformFake, RawBody, header, is_iso_date

Answer = tuple[int, dict, object]
EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
TRUNCATED = -1  # a canned "status": answer the real body cut in half
SORT_KEYS = ("id", "recipient_name", "group.name", "issued_on", "expired_on")  # documented
DATE_FIELDS = ("updated_at", "created_at", "issued_on", "expired_on")
OPS = ("eq", "in", "lt", "lte", "gt", "gte")
OFFSET_LIMIT = 10_000
FILTER = re.compile(r"^(?P<field>[a-z_.]+)(\[(?P<op>[a-z]+)\])?$")


class FakeAccredible(PlatformFake):
    def __init__(self, api_key: str, port: int = 0, first_id: int = 84720100) -> None:
        self.api_key = api_key
        self.groups: dict[int, str] = {}  # group id -> course name; empty: every group exists
        self.credentials: list[dict] = []
        self.events: list[dict] = []  # analytics: {"credential_id", "event", "created_at"}
        self.max_page_size = 100
        self.targets: list[tuple[str, str]] = []
        self.stamps: list[float] = []
        self._ids = itertools.count(first_id)
        self._recipient_ids = itertools.count(5510100)
        super().__init__(port)
        self.base_url = f"http://127.0.0.1:{self.port}"

    # -- content and failures ----------------------------------------------------------------

    def add_credential(
        self,
        email: str,
        name: str,
        group_id: int = 771001,
        course: str | None = None,
        issued_on: str = "2026-11-18",
        expired_on: str | None = None,
        updated_at: str | None = None,
        employee_id: str | None = None,
        **fields: object,
    ) -> dict:
        """A credential as if issued on Accredible (`updated_at` and `created_at` default to now)."""
        now = _iso(datetime.now(UTC))
        credential_id = next(self._ids)
        course = course or self.groups.get(group_id) or f"Course {group_id}"
        credential = {
            "id": credential_id,
            "uuid": str(uuid.uuid4()),
            "encoded_id": _encoded(credential_id),
            "name": course,
            "description": f"{course}: awarded on completion.",
            "issued_on": issued_on,
            "expired_on": expired_on,
            "url": f"https://www.credential.net/{credential_id}",
            "complete": True,
            "private": False,
            "approve": True,
            "license_id": None,
            "recipient": {
                "id": next(self._recipient_ids),
                "name": name,
                "email": email,
                "meta_data": {"employee_id": employee_id} if employee_id else {},
            },
            "group": {"id": group_id, "name": f"group-{group_id}", "course_name": course},
            "evidence_items": [],
            "created_at": updated_at or now,
            "updated_at": updated_at or now,
            **fields,
        }
        with self._lock:
            self.credentials.append(credential)
        return credential

    def update_credential(self, credential_id: int, updated_at: str | None = None, **fields: object) -> dict:
        """Change a credential as an edit on Accredible does: updated_at moves (to now by default)."""
        with self._lock:
            credential = next(c for c in self.credentials if c["id"] == credential_id)
            credential.update(fields)
            credential["updated_at"] = updated_at or _iso(datetime.now(UTC))
        return credential

    def add_event(self, credential_id: int, event: str, created_at: str) -> dict:
        row = {"credential_id": credential_id, "event": event, "created_at": created_at}
        with self._lock:
            self.events.append(row)
        return row

    def truncate_next(self, times: int = 1, path: str | None = None) -> None:
        """The next answers stop halfway through their JSON body (200, as a cut connection looks)."""
        self.fail_next(TRUNCATED, times, path=path)

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        path = parts.path
        parsed = _json(body)
        with self._lock:
            self.targets.append((method, target))
            self.stamps.append(time.monotonic())
        failure = self._record(method, path, headers, parsed)
        if failure and failure.status != TRUNCATED:
            return failure.status, failure.headers, {"error": f"canned {failure.status}"}
        try:
            answer = self._route(method, path, parse_qs(parts.query), headers, parsed)
        except Exception as error:  # a bug in the fake must look like a 500, not a dropped socket
            return 500, {}, {"error": f"fake Accredible failed: {type(error).__name__}: {error}"}
        if failure:  # the connection dropped mid-body: half a JSON document
            text = json.dumps(answer[2]).encode()
            return 200, {}, RawBody(text[: len(text) // 2])
        return answer

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: object
    ) -> Answer:
        if header(headers, "Authorization") != f"Token token={self.api_key}":
            return 401, {}, {"error": "Invalid API key"}
        if (method, path) == ("POST", "/v1/credentials"):
            return self._create(body)
        if (method, path) == ("POST", "/v2/credentials/search"):
            return self._search(body)
        if (method, path) == ("GET", "/v1/analytics"):
            return self._analytics(query)
        if method == "GET" and path.startswith("/v1/credentials/") and path.count("/") == 3:
            return self._get(unquote(path.rsplit("/", 1)[1]))
        return 404, {}, {"error": "Not found"}

    # -- creating ----------------------------------------------------------------------------

    def _create(self, body: object) -> Answer:
        credential = body.get("credential") if isinstance(body, dict) else None
        if not isinstance(credential, dict):
            return 422, {}, {"errors": {"credential": ["is missing"]}}
        errors = self._errors(credential)
        if errors:
            return 422, {}, {"errors": errors}
        created = self._created(credential)
        with self._lock:
            self.credentials.append(created)
        return 200, {}, {"credential": created}

    def _errors(self, credential: dict) -> dict[str, list[str]]:
        recipient = credential.get("recipient") if isinstance(credential.get("recipient"), dict) else {}
        errors: dict[str, list[str]] = {}
        for field, value in (
            ("recipient.name", recipient.get("name")),
            ("recipient.email", recipient.get("email")),
            ("group_id", credential.get("group_id")),
        ):
            if value in (None, ""):
                errors[field] = ["can't be blank"]
        if recipient.get("email") and not EMAIL.match(str(recipient["email"])):
            errors["recipient.email"] = ["is invalid"]
        group_id = credential.get("group_id")
        if group_id not in (None, "") and self.groups and _int(group_id) not in self.groups:
            errors["group_id"] = ["Group not found"]
        if credential.get("issued_on") and not is_iso_date(str(credential["issued_on"])):
            errors["issued_on"] = ["must be a date (YYYY-MM-DD)"]
        items = credential.get("evidence_items") or []
        usable = lambda item: isinstance(item, dict) and bool(item.get("url") or item.get("string_object"))  # noqa: E731
        if not isinstance(items, list) or not all(usable(item) for item in items):
            errors["evidence_items"] = ["each needs a url or a string_object"]
        return errors

    def _created(self, credential: dict) -> dict:
        group_id = _int(credential["group_id"])
        course = self.groups.get(group_id, f"Course {group_id}")  # type: ignore[arg-type]
        now = _iso(datetime.now(UTC))
        credential_id = next(self._ids)
        recipient = dict(credential["recipient"])
        return {
            "id": credential_id,
            "name": credential.get("name") or course,
            "description": credential.get("description"),
            "issued_on": credential.get("issued_on") or date.today().isoformat(),
            "expired_on": credential.get("expired_on"),
            "url": f"https://www.credential.net/{credential_id}",
            "complete": credential.get("complete", True),
            "private": credential.get("private", False),
            "approve": True,
            "recipient": {**recipient, "id": next(self._recipient_ids), "meta_data": recipient.get("meta_data") or {}},
            "group": {"id": group_id, "name": f"group-{group_id}", "course_name": course},
            "evidence_items": credential.get("evidence_items") or [],
            "created_at": now,
            "updated_at": now,
        }

    # -- v2 search ---------------------------------------------------------------------------

    def _search(self, body: object) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
            return _invalid("query is required")
        sort = body.get("sort") or {"id": "asc"}
        page = body.get("page") or {}
        if not isinstance(sort, dict) or len(sort) != 1 or not isinstance(page, dict):
            return _invalid("sort is one {key: order}; page an object")
        [(key, order)] = sort.items()
        if key not in SORT_KEYS:
            return _invalid(f"Sort key {key} is not supported")
        if order not in ("asc", "desc"):
            return _invalid(f"Sort order {order} is not supported")
        if "cursor" in page and "from" in page:
            return _invalid("page.cursor cannot be used together with page.from")
        size, start = page.get("size", 50), page.get("from", 0)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (size, start)) or size < 1:
            return _invalid("page.size and page.from are non-negative integers")
        if "from" in page and start + size > OFFSET_LIMIT:
            return _invalid("Result window is too large: use page.cursor past 10,000 results")
        size = min(size, self.max_page_size)
        try:
            matches = self._matching(body["query"])
            after = _decode_cursor(page["cursor"]) if page.get("cursor") is not None else None
        except ValueError as error:
            return _invalid(str(error))
        sort_key = lambda c: (_sort_value(c, key), c["id"])  # noqa: E731 - id breaks ties, as search_after does
        matches.sort(key=sort_key, reverse=order == "desc")
        count = len(matches)  # every page answers the query's total, as the search engine does
        if after is not None:
            beyond = (lambda k: k > after) if order == "asc" else (lambda k: k < after)  # noqa: E731
            matches = [c for c in matches if beyond(list(sort_key(c)))]
            start = 0
        chunk = matches[start : start + size]
        more = len(matches) > start + size
        cursor = _encode_cursor(list(sort_key(chunk[-1]))) if chunk and more else None
        meta = {"count": count, "from": start, "size": size, "cursor": cursor}
        return 200, {}, {"credentials": [_search_shape(c) for c in chunk], "meta": meta}

    def _matching(self, query: dict) -> list[dict]:
        tests = []
        for name, value in query.items():
            match = FILTER.match(name)
            if not match:
                raise ValueError(f"Unknown query field {name}")
            field, op = match["field"], match["op"] or "eq"
            if op not in OPS:
                raise ValueError(f"Operation {op} is not supported")
            tests.append(_test(field, op, value))
        with self._lock:
            return [dict(c) for c in self.credentials if all(test(c) for test in tests)]

    # -- analytics and one credential --------------------------------------------------------

    def _analytics(self, query: dict[str, list[str]]) -> Answer:
        try:
            start = _query_date(query, "start_date")
            end = _query_date(query, "end_date")
            page = int(_first(query, "page", "1"))
            size = min(self.max_page_size, int(_first(query, "page_size", "100")))
        except ValueError as error:
            return 400, {}, {"errors": str(error)}
        if page < 1 or size < 1:
            return 400, {}, {"errors": "page and page_size must be at least 1"}
        with self._lock:
            events = sorted(self.events, key=lambda e: e["created_at"])
            license_ids = {c["id"]: c.get("license_id") for c in self.credentials}
        rows = [
            e
            for e in events
            if (start is None or _utc_date(e["created_at"]) > start)
            and (end is None or _utc_date(e["created_at"]) < end)
        ]
        pages = max(1, -(-len(rows) // size))
        chunk = rows[(page - 1) * size : page * size]
        analytics = [
            {
                "credential": {"id": e["credential_id"], "license_id": license_ids.get(e["credential_id"])},
                "event": e["event"],
                "created_at": e["created_at"],
            }
            for e in chunk
        ]
        meta = {
            "current_page": page,
            "next_page": page + 1 if page < pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": pages,
            "total_count": len(rows),
        }
        return 200, {}, {"analytics": analytics, "meta": meta}

    def _get(self, credential_id: str) -> Answer:
        with self._lock:
            found = next((c for c in self.credentials if str(c["id"]) == credential_id), None)
        if found is None:
            return 404, {}, {"errors": "Doesn't exist"}
        return 200, {}, {"credential": _get_shape(found)}


# -- shapes -------------------------------------------------------------------------------------


def _search_shape(c: dict) -> dict:
    """A credential as POST /v2/credentials/search answers it: the recipient flattened."""
    recipient = c.get("recipient") or {}
    return {
        "id": c["id"],
        "uuid": c.get("uuid"),
        "encoded_id": c.get("encoded_id") or _encoded(c["id"]),
        "name": c.get("name"),
        "issued_on": c.get("issued_on"),
        "expired_on": c.get("expired_on"),
        "published_on": c.get("issued_on"),
        "approve": c.get("approve", True),
        "private": c.get("private", False),
        "recipient_name": recipient.get("name"),
        "recipient_email": recipient.get("email"),
        "recipient_id": None,
        "recipient_meta_data": recipient.get("meta_data") or {},
        "recipient_opened": False,
        "recipient_engaged": False,
        "license_id": c.get("license_id"),
        "grade": None,
        "custom_attributes": {},
        "meta_data": {},
        "issuer_id": 1234,
        "seo_image": f"https://api.accredible.com/v1/frontend/credential_seo_image/{c['id']}",
        "group": {**(c.get("group") or {}), "badge_design_id": None, "certificate_design_id": 1234},
        "created_at": c.get("created_at"),
        "updated_at": c.get("updated_at"),
    }


def _get_shape(c: dict) -> dict:
    """A credential as GET /v1/credentials/{id} answers it: id as text, group_id and group_name."""
    group = c.get("group") or {}
    recipient = c.get("recipient") or {}
    return {
        "id": str(c["id"]),
        "name": c.get("name"),
        "description": c.get("description"),
        "approve": c.get("approve", True),
        "grade": None,
        "complete": c.get("complete", True),
        "issued_on": c.get("issued_on"),
        "expired_on": c.get("expired_on"),
        "course_link": None,
        "custom_attributes": {},
        "group_name": group.get("name"),
        "group_id": group.get("id"),
        "url": c.get("url"),
        "encoded_id": c.get("encoded_id") or _encoded(c["id"]),
        "private": c.get("private", False),
        "evidence_items": c.get("evidence_items") or [],
        "references": [],
        "recipient": {
            "name": recipient.get("name"),
            "email": recipient.get("email"),
            "phone_number": None,
            "id": str(recipient.get("id")),
            "meta_data": recipient.get("meta_data"),
        },
        "issuer": {"name": "Example Academy", "description": None, "url": "https://academy.example.com", "id": 1234},
        "meta_data": None,
    }


def _test(field: str, op: str, value: object):
    """A predicate on a stored credential for one documented query key."""
    if field in DATE_FIELDS:
        values = value if op == "in" else [value]
        if not isinstance(values, list) or not all(isinstance(v, str) and is_iso_date(v) for v in values):
            raise ValueError(f"{field} must be a date (YYYY-MM-DD)")
        wanted = [date.fromisoformat(v) for v in values]  # type: ignore[arg-type]
        read = lambda c: _utc_date(c.get(field)) if c.get(field) else None  # noqa: E731
    elif field in ("approve", "group.id", "id", "recipient_email"):
        wanted = value if op == "in" else [value]
        if not isinstance(wanted, list):
            raise ValueError(f"{field}[in] takes an array")
        if op not in ("eq", "in"):
            raise ValueError(f"Operation {op} is not supported on {field}")
        getters = {
            "approve": lambda c: c.get("approve", True),
            "group.id": lambda c: (c.get("group") or {}).get("id"),
            "id": lambda c: c["id"],
            "recipient_email": lambda c: (c.get("recipient") or {}).get("email"),
        }
        read = getters[field]
    else:
        raise ValueError(f"Unknown query field {field}")

    def test(credential: dict) -> bool:
        have = read(credential)
        if op in ("eq", "in"):
            return have in wanted
        if have is None:
            return False
        limit = wanted[0]
        return {"lt": have < limit, "lte": have <= limit, "gt": have > limit, "gte": have >= limit}[op]

    return test


def _sort_value(c: dict, key: str) -> object:
    value = {
        "id": c["id"],
        "recipient_name": (c.get("recipient") or {}).get("name"),
        "group.name": (c.get("group") or {}).get("name"),
    }.get(key, c.get(key))
    return value if value is not None else ""


def _encode_cursor(after: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(after).encode()).decode()


def _decode_cursor(text: object) -> list:
    try:
        value = json.loads(base64.urlsafe_b64decode(str(text).encode()))
    except (ValueError, TypeError):
        raise ValueError("page.cursor is not a cursor this API gave") from None
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("page.cursor is not a cursor this API gave")
    return value


def _invalid(message: str) -> Answer:
    return 400, {}, {"code": 400, "message": message, "status": "invalid_search_query", "errors": {}}


def _query_date(query: dict[str, list[str]], name: str) -> date | None:
    text = _first(query, name, "")
    if not text:
        return None
    normalised = text.replace("/", "-")
    if not is_iso_date(normalised):
        raise ValueError(f"{name} must be YYYY-MM-DD")
    return date.fromisoformat(normalised)


def _utc_date(text: object) -> date:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def _first(query: dict[str, list[str]], key: str, default: str) -> str:
    return (query.get(key) or [default])[0]


def _encoded(credential_id: int) -> str:
    return base64.urlsafe_b64encode(str(credential_id).encode()).decode().rstrip("=")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _int(value: object) -> object:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value


def _json(body: bytes) -> object:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
