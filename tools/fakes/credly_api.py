"""A local fake of the Credly API that speaks its documented shapes and fails the way it does.

    python tools/fakes/credly_api.py --port 8082 --org ORG --token TOKEN --events-dir tests/fixtures/credly

- Auth: HTTP Basic, the organisation token as user name and an empty password ("token:" or,
  as some integrations send it, "token" without the separator); anything else -> 401.
  Assign `fake.token` to simulate a rotated or expired token.
- Another organisation in the path -> 404: like most APIs, Credly does not confirm that an
  organisation it will not show you exists (a 403 would leak that).
- `add_organisation(org_id, token)`: the fake serves a further organisation with its own token,
  events, badges and issued list (the returned `Organisation`); a token of one organisation on
  another's path -> 403 {"data": {"message": ...}}, as Credly refuses a token without access to it.
- GET  /v1/organizations/{org}/events/{id}        -> 200 {"data": <event detail>} or 404
- GET  /v1/organizations/{org}/badges?page=N&per=M&filter=state::X
                                                  -> {"data": [...], "metadata": {...}}; the page
  links are absolute URLs to this fake that keep every other query parameter (filter, per).
  Only the `state` filter is applied; other filter keys are ignored.
- POST /v1/organizations/{org}/badges              -> 201 {"data": badge}; 422 naming missing
  fields; 422 "User already has this badge" for the same template and email or earner id.
  Issued payloads are recorded in `issued` (tests may append to it to simulate history) and
  the new badge joins the list answered by GET badges.
- `fail_next(status, times, headers, delay)` serves canned failures before anything else
  (429 + Retry-After, 5xx); `delay_next(seconds)` slows the next answer; `truncate_next()`
  cuts the next answer's JSON in half; `drip_next(interval, times, head)` sends the next answers
  a byte at a time; `set_cookie(value)` sets a cookie on every answer (`cookies_received`: what
  clients sent back); `requests` records every (method, path) received, canned ones included,
  and `targets` every (method, path?query).
- `endless = True`: every list page names a next page, past the end too (empty pages that never
  stop, each with a new link), as a server with a paging bug answers; `loops = True`: the last
  page names the first one as its next.
- GET badges (and the same list at high_volume_issued_badge_search) honours `sort=issued_at` /
  `sort=-issued_at`; other sort keys are ignored.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import signal
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

if __package__ in (None, ""):  # run as a script: make `fakes` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.server import PlatformFake, RawBody  # noqa: E402

REQUIRED_ISSUE_FIELDS = (
    "recipient_email",
    "badge_template_id",
    "issued_to_first_name",
    "issued_to_last_name",
    "issued_at",
)
ISSUED_AT_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # Credly's documented request format
MAX_PER_PAGE = 100

Answer = tuple[int, dict, object]
TRUNCATED = -1  # a canned "status": answer the real body cut in half


def truncated(answer: Answer) -> RawBody:
    """What a cut connection leaves of an answer: the first half of its JSON text."""
    text = json.dumps(answer[2]).encode()
    return RawBody(text[: len(text) // 2])


def _error(status: int, message: str) -> Answer:
    return status, {}, {"data": {"message": message}}


class Organisation:
    """A further organisation the fake serves: its own token and content."""

    def __init__(self, org_id: str, token: str) -> None:
        self.org_id = org_id
        self.token = token
        self.events: dict[str, dict] = {}
        self.badges: list[dict] = []
        self.issued: list[dict] = []


class FakeCredly(PlatformFake):
    def __init__(self, org_id: str, token: str, port: int = 0, per_page: int = 50) -> None:
        self.org_id = org_id
        self.token = token
        self.per_page = per_page
        self.endless = False  # list pages name a next page past the end too
        self.loops = False  # the last list page names the first as its next
        self.events: dict[str, dict] = {}
        self.badges: list[dict] = []
        self.issued: list[dict] = []
        self.targets: list[tuple[str, str]] = []
        self.others: dict[str, Organisation] = {}
        super().__init__(port)
        self.base_url = f"http://127.0.0.1:{self.port}/v1/"

    # -- content and failures ----------------------------------------------------------------

    def add_event(self, detail: dict) -> None:
        """Register an event detail: the object inside a fixture's top-level `data`."""
        with self._lock:
            self.events[str(detail["id"])] = detail

    def load_events_dir(self, path: str | Path) -> int:
        files = sorted(Path(path).glob("event_*.json"))
        for file in files:
            self.add_event(json.loads(file.read_text())["data"])
        return len(files)

    def add_organisation(self, org_id: str, token: str) -> Organisation:
        with self._lock:
            return self.others.setdefault(org_id, Organisation(org_id, token))

    def add_badge(self, badge: dict) -> None:
        with self._lock:
            self.badges.append(badge)

    def truncate_next(self, times: int = 1) -> None:
        """The next answers stop halfway through their JSON body (200, as a cut connection looks)."""
        self.fail_next(TRUNCATED, times)

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        with self._lock:
            self.targets.append((method, target))
        canned = self._record(method, parts.path, headers, None)
        if canned:
            if canned.status == TRUNCATED:  # the connection dropped mid-body: half a JSON document
                return 200, {}, truncated(self._route(method, parts.path, parse_qs(parts.query), headers, body))
            return canned.status, canned.headers, {"data": {"message": f"canned {canned.status}"}}
        try:
            return self._route(method, parts.path, parse_qs(parts.query), headers, body)
        except Exception as error:  # a bug in the fake must look like a 500, not a dropped socket
            return _error(500, f"fake Credly failed: {type(error).__name__}: {error}")

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Answer:
        user = self._user(_header(headers, "Authorization"))
        served = [self, *self.others.values()]
        if not any(user == org.token for org in served):
            return _error(401, "You must be logged in to access this resource")
        segments = [s for s in path.split("/") if s]
        org = next((o for o in served if len(segments) > 2 and segments[2] == o.org_id), None)
        if segments[:2] != ["v1", "organizations"] or len(segments) < 4 or org is None:
            return _error(404, "Not found")
        if user != org.token:
            return _error(403, "You are not authorized to access this organization")
        resource = segments[3:]
        if method == "GET" and len(resource) == 2 and resource[0] == "events":
            with self._lock:
                event = org.events.get(resource[1])
            return (200, {}, {"data": event}) if event else _error(404, "Not found")
        if resource in (["badges"], ["high_volume_issued_badge_search"]) and method == "GET":
            return self._badge_page(query, resource[0], org)
        if resource == ["badges"] and method == "POST":
            return self._issue(body, org)
        return _error(404, "Not found")

    def _authorised(self, header: str | None) -> bool:
        """The header authenticates the first organisation."""
        return self._user(header) == self.token

    def _user(self, header: str | None) -> str | None:
        """The token of a well-formed Basic header (an empty password, or none); None otherwise."""
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return user if password == "" else None

    # -- badges ------------------------------------------------------------------------------

    def _badge_page(
        self, query: dict[str, list[str]], listing: str = "badges", org: FakeCredly | Organisation | None = None
    ) -> Answer:
        org = org or self
        try:
            page = int(_first(query, "page", "1"))
            per = min(MAX_PER_PAGE, int(_first(query, "per", str(self.per_page))))
        except ValueError:
            return _error(400, "page and per must be integers")
        if page < 1 or per < 1:
            return _error(400, "page and per must be at least 1")
        state = _filter_value(_first(query, "filter", ""), "state")
        with self._lock:
            badges = [b for b in org.badges if state is None or b.get("state") == state]
        sort = _first(query, "sort", "")
        if sort.lstrip("-") == "issued_at":  # Credly's list sorts; the fake knows this key only
            badges.sort(key=lambda b: str(b.get("issued_at")), reverse=sort.startswith("-"))
        chunk = badges[(page - 1) * per : page * per]
        total_pages = max(1, -(-len(badges) // per))
        metadata = {
            "count": len(chunk),
            "current_page": page,
            "total_count": len(badges),
            "total_pages": total_pages,
            "per": per,
            "previous_page_url": self._page_url(query, page - 1, listing, org.org_id) if page > 1 else None,
            "next_page_url": self._next_url(query, page, total_pages, listing, org.org_id),
        }
        return 200, {}, {"data": chunk, "metadata": metadata}

    def _next_url(
        self, query: dict[str, list[str]], page: int, total_pages: int, listing: str, org_id: str
    ) -> str | None:
        if page < total_pages or self.endless:
            return self._page_url(query, page + 1, listing, org_id)
        return self._page_url(query, 1, listing, org_id) if self.loops else None

    def _page_url(self, query: dict[str, list[str]], page: int, listing: str, org_id: str) -> str:
        # Keep filter and per: a next page without them would list a different collection.
        kept = {key: values[0] for key, values in query.items() if key != "page"}
        return f"{self.base_url}organizations/{org_id}/{listing}?{urlencode({**kept, 'page': page})}"

    def _issue(self, body: bytes, org: FakeCredly | Organisation) -> Answer:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "Invalid JSON")
        if not isinstance(payload, dict):
            return _error(400, "Expected a JSON object")
        missing = [f for f in REQUIRED_ISSUE_FIELDS if not payload.get(f)]
        if missing:
            return _error(422, f"Missing required fields: {', '.join(missing)}")
        try:
            issued_at = datetime.strptime(str(payload["issued_at"]), ISSUED_AT_FORMAT)
        except ValueError:
            return _error(422, f"issued_at must look like 2026-11-20 14:03:10 +0000, got {payload['issued_at']!r}")
        with self._lock:  # check and record in one step: two concurrent issues award once
            if any(_same_award(earlier, payload) for earlier in org.issued):
                return _error(422, "User already has this badge")
            org.issued.append(payload)
            badge = _issued_badge(payload, issued_at)
            org.badges.append(badge)
        return 201, {}, {"data": badge}


def _same_award(earlier: dict, payload: dict) -> bool:
    if earlier.get("badge_template_id") != payload["badge_template_id"]:
        return False
    same_email = str(earlier.get("recipient_email", "")).lower() == str(payload["recipient_email"]).lower()
    earner = payload.get("issuer_earner_id")
    return same_email or bool(earner and earlier.get("issuer_earner_id") == earner)


def _issued_badge(payload: dict, issued_at: datetime) -> dict:
    """The badge as Credly answers it: pending, times in ISO 8601 UTC, the template nested."""
    badge_id = str(uuid.uuid4())
    now = _iso(datetime.now(UTC))
    template_id = payload["badge_template_id"]
    return {
        **payload,
        "id": badge_id,
        "state": "pending",
        "issued_at": _iso(issued_at),
        "created_at": now,
        "updated_at": now,
        "state_updated_at": now,
        "issued_to": f"{payload['issued_to_first_name']} {payload['issued_to_last_name']}",
        "badge_url": f"https://www.credly.com/badges/{badge_id}",
        "badge_template": {"id": template_id, "name": f"Badge template {template_id}"},
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _first(query: dict[str, list[str]], key: str, default: str) -> str:
    return (query.get(key) or [default])[0]


def _filter_value(filter_text: str, wanted: str) -> str | None:
    """`key::value|key2::v1,v2` -> the value of `wanted` (only state is applied by the fake)."""
    for clause in filter_text.split("|"):
        key, _, value = clause.partition("::")
        if key == wanted:
            return value
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8082, help="0 picks a free port")
    parser.add_argument("--org", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--events-dir", type=Path, help="registers every event_*.json found there")
    parser.add_argument("--badges-file", type=Path, help="JSON lines: badges the list endpoint serves")
    args = parser.parse_args()
    fake = FakeCredly(args.org, args.token, args.port)
    count = fake.load_events_dir(args.events_dir) if args.events_dir else 0
    if args.badges_file:
        with args.badges_file.open(encoding="utf-8") as lines:
            for line in lines:
                fake.add_badge(json.loads(line))
    stopping = threading.Event()
    # A dev stack stops its children with SIGTERM: close the socket cleanly, exit 0.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with fake:
        print(f"fake Credly API on {fake.base_url} ({count} events, {len(fake.badges)} badges)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopping.wait()


if __name__ == "__main__":
    main()
