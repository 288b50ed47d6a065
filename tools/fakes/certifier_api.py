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
- `fail_next(status, times, headers, delay, path)` serves canned failures first (only to paths
  ending with `path` when given, e.g. "/issue"); status 0 means "only the delay, then the normal
  answer", which still takes effect (`delay_next`). `requests` records (method, path),
  `received` also headers and parsed bodies; `created` the create bodies; `issued` the issued
  credentials.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from urllib.parse import unquote, urlsplit

from fakes.server import PlatformFake, header, is_iso_date

Answer = tuple[int, dict, object]


def _error(status: int, message: str) -> Answer:
    return status, {}, {"error": {"message": message}}


class FakeCertifier(PlatformFake):
    def __init__(self, token: str, port: int = 0) -> None:
        self.token = token
        self.groups: set[str] = set()  # empty: every group exists
        self.credentials: dict[str, dict] = {}
        self.created: list[dict] = []
        super().__init__(port)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle and controls --------------------------------------------------------------


    def add_credential(self, credential: dict) -> None:
        with self._lock:
            self.credentials[credential["id"]] = credential


    @property
    def issued(self) -> list[dict]:
        with self._lock:
            return [c for c in self.credentials.values() if c.get("status") == "issued"]

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        path = urlsplit(target).path
        parsed = _json(body)
        failure = self._record(method, path, headers, parsed)
        if failure:
            return _error(failure.status, f"canned {failure.status}")
        try:
            return self._route(method, path, headers, parsed)
        except Exception as error:  # a bug in the fake must look like a 500, not a dropped socket
            return _error(500, f"fake Certifier failed: {type(error).__name__}: {error}")

    def _route(self, method: str, path: str, headers: dict[str, str], body: object) -> Answer:
        if header(headers, "Authorization") != f"Bearer {self.token}":
            return _error(401, "Unauthorized")
        if not header(headers, "Certifier-Version"):
            return _error(400, "Certifier-Version header is required")
        parts = [unquote(p) for p in path.strip("/").split("/")]
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

    # -- create and issue --------------------------------------------------------------------

    def _create(self, payload: dict) -> Answer:
        problem = _create_problem(payload)
        if problem:
            return _error(422, problem)
        if self.groups and payload["groupId"] not in self.groups:
            return _error(404, f"Group {payload['groupId']} not found")
        now = _now()
        credential = {
            "id": uuid.uuid4().hex[:26].upper(), "publicId": str(uuid.uuid4()), "groupId": payload["groupId"],
            "status": "draft", "recipient": payload["recipient"],
            "issueDate": payload.get("issueDate") or date.today().isoformat(), "expiryDate": payload.get("expiryDate"),
            "customAttributes": payload.get("customAttributes") or {}, "createdAt": now, "updatedAt": now,
        }
        with self._lock:
            self.created.append(payload)
            self.credentials[credential["id"]] = credential
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
    missing = [name for name, value in (("groupId", payload.get("groupId")), ("recipient.name", recipient.get("name")),
                                        ("recipient.email", recipient.get("email"))) if not value]
    if missing:
        return f"{', '.join(missing)} required"
    if payload.get("issueDate") and not is_iso_date(str(payload["issueDate"])):
        return "issueDate must be a date (YYYY-MM-DD)"
    attributes = payload.get("customAttributes") or {}
    if not isinstance(attributes, dict) or any(not str(k).startswith("custom.") for k in attributes):
        return 'customAttributes keys must start with "custom."'
    return None



def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _json(body: bytes) -> object:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
