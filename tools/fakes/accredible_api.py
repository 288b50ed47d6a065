"""A local fake of Accredible's API: Token auth, POST /v1/credentials and its 422s.

- Auth: `Authorization: Token token=<API key>`; anything else -> 401 {"error": ...}.
- POST /v1/credentials with {"credential": {...}} -> 200 {"credential": <created>} in the shape of
  tests/fixtures/accredible (numeric id, recipient with a platform-assigned numeric id and the
  meta_data sent, group {id, name, course_name}, url, dates). 422 {"errors": {field: [msg]}}
  for a missing recipient.name, recipient.email or group_id, a malformed email, an issued_on
  that is not YYYY-MM-DD, or an evidence item without url or string_object; 422 for a group
  outside `groups` when that mapping is not empty. Accredible does not refuse a second
  credential in the same group for the same recipient: neither does the fake.
- `fail_next(status, times, headers, delay, path)` serves canned failures first (status 0: only
  the delay, then the normal answer, which still takes effect); `requests` records (method,
  path), `received` also headers and parsed bodies; `credentials` every created credential.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

from fakes.server import PlatformFake, header, is_iso_date

Answer = tuple[int, dict, object]
EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


class FakeAccredible(PlatformFake):
    def __init__(self, api_key: str, port: int = 0) -> None:
        self.api_key = api_key
        self.groups: dict[int, str] = {}  # group id -> course name; empty: every group exists
        self.credentials: list[dict] = []
        self._ids = itertools.count(84720100)
        self._recipient_ids = itertools.count(5510100)
        super().__init__(port)
        self.base_url = f"http://127.0.0.1:{self.port}"

    # -- lifecycle and controls --------------------------------------------------------------



    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        path = urlsplit(target).path
        parsed = _json(body)
        failure = self._record(method, path, headers, parsed)
        if failure:
            return failure.status, failure.headers, {"error": f"canned {failure.status}"}
        try:
            return self._route(method, path, headers, parsed)
        except Exception as error:  # a bug in the fake must look like a 500, not a dropped socket
            return 500, {}, {"error": f"fake Accredible failed: {type(error).__name__}: {error}"}

    def _route(self, method: str, path: str, headers: dict[str, str], body: object) -> Answer:
        if header(headers, "Authorization") != f"Token token={self.api_key}":
            return 401, {}, {"error": "Invalid API key"}
        if (method, path) != ("POST", "/v1/credentials"):
            return 404, {}, {"error": "Not found"}
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

    # -- credentials -------------------------------------------------------------------------

    def _errors(self, credential: dict) -> dict[str, list[str]]:
        recipient = credential.get("recipient") if isinstance(credential.get("recipient"), dict) else {}
        errors: dict[str, list[str]] = {}
        for field, value in (("recipient.name", recipient.get("name")), ("recipient.email", recipient.get("email")),
                             ("group_id", credential.get("group_id"))):
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
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        credential_id = next(self._ids)
        recipient = dict(credential["recipient"])
        return {
            "id": credential_id, "name": credential.get("name") or course, "description": credential.get("description"),
            "issued_on": credential.get("issued_on") or date.today().isoformat(),
            "expired_on": credential.get("expired_on"), "url": f"https://www.credential.net/{credential_id}",
            "complete": credential.get("complete", True), "private": credential.get("private", False), "approve": True,
            "recipient": {**recipient, "id": next(self._recipient_ids), "meta_data": recipient.get("meta_data") or {}},
            "group": {"id": group_id, "name": f"group-{group_id}", "course_name": course},
            "evidence_items": credential.get("evidence_items") or [],
            "created_at": now, "updated_at": now,
        }


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
