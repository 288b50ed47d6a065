"""A local fake of the Credly API that speaks its documented shapes and fails the way it does.

    python tools/fakes/credly_api.py --port 8082 --org ORG --token TOKEN --events-dir tests/fixtures/credly

- Basic auth with the organisation token as user name, empty password; otherwise 401.
- GET  /v1/organizations/{org}/events/{id}  -> {"data": <event detail>} or 404
- GET  /v1/organizations/{org}/badges?page=N -> {"data": [...], "metadata": {... next_page_url}}
- POST /v1/organizations/{org}/badges        -> 201 {"data": badge}; 422 when already awarded
- Another organisation in the path -> 404 (Credly does not reveal other organisations).
- `fail_next(status, times, headers, delay)` serves canned failures first (429 + Retry-After, 5xx).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

if __package__ in (None, ""):  # run as a script: make `fakes` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.server import JsonServer  # noqa: E402

REQUIRED_ISSUE_FIELDS = ("recipient_email", "badge_template_id", "issued_to_first_name", "issued_to_last_name", "issued_at")


@dataclass
class Canned:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeCredly:
    def __init__(self, org_id: str, token: str, port: int = 0, per_page: int = 50) -> None:
        self.org_id = org_id
        self.token = token
        self.per_page = per_page
        self.events: dict[str, dict] = {}
        self.badges: list[dict] = []
        self.issued: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self._canned: deque[Canned] = deque()
        self._lock = threading.Lock()
        self._server = JsonServer(self.handle, port)
        self.port = self._server.port
        self.base_url = f"http://127.0.0.1:{self.port}/v1/"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeCredly":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "FakeCredly":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content and failures ----------------------------------------------------------------

    def add_event(self, detail: dict) -> None:
        with self._lock:
            self.events[detail["id"]] = detail

    def load_events_dir(self, path: str | Path) -> int:
        files = sorted(Path(path).glob("event_*.json"))
        for file in files:
            self.add_event(json.loads(file.read_text())["data"])
        return len(files)

    def add_badge(self, badge: dict) -> None:
        with self._lock:
            self.badges.append(badge)

    def fail_next(self, status: int, times: int = 1, headers: dict | None = None, delay: float = 0.0) -> None:
        with self._lock:
            self._canned.extend(Canned(status, headers or {}, delay) for _ in range(times))

    def delay_next(self, seconds: float) -> None:
        self.fail_next(0, 1, None, seconds)  # status 0: answer normally, after the delay

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, dict | None]:
        auth = headers.get("Authorization")
        parts = urlsplit(target)
        with self._lock:
            self.requests.append((method, parts.path))
            canned = self._canned.popleft() if self._canned else None
        if canned:
            time.sleep(canned.delay)
            if canned.status:
                return canned.status, canned.headers, {"data": {"message": f"canned {canned.status}"}}
        if not self._authorised(auth):
            return 401, {}, {"data": {"message": "Unauthorized"}}
        segments = [s for s in parts.path.split("/") if s]
        if segments[:2] != ["v1", "organizations"] or len(segments) < 4 or segments[2] != self.org_id:
            return 404, {}, {"data": {"message": "Not found"}}
        resource = segments[3:]
        if method == "GET" and len(resource) == 2 and resource[0] == "events":
            event = self.events.get(resource[1])
            return (200, {}, {"data": event}) if event else (404, {}, {"data": {"message": "Not found"}})
        if resource == ["badges"] and method == "GET":
            return 200, {}, self._badge_page(parse_qs(parts.query))
        if resource == ["badges"] and method == "POST":
            return self._issue(body)
        return 404, {}, {"data": {"message": "Not found"}}

    def _authorised(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, _password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return user == self.token

    def _badge_page(self, query: dict[str, list[str]]) -> dict:
        page = max(1, int((query.get("page") or ["1"])[0]))
        wanted_state = None
        for clause in (query.get("filter") or [""])[0].split("|"):
            key, _, value = clause.partition("::")
            if key == "state":
                wanted_state = value
        with self._lock:
            badges = [b for b in self.badges if wanted_state in (None, b.get("state"))]
        total_pages = max(1, -(-len(badges) // self.per_page))
        url = f"{self.base_url}organizations/{self.org_id}/badges?page="
        return {
            "data": badges[(page - 1) * self.per_page : page * self.per_page],
            "metadata": {
                "count": len(badges[(page - 1) * self.per_page : page * self.per_page]),
                "current_page": page,
                "total_count": len(badges),
                "total_pages": total_pages,
                "per": self.per_page,
                "previous_page_url": f"{url}{page - 1}" if page > 1 else None,
                "next_page_url": f"{url}{page + 1}" if page < total_pages else None,
            },
        }

    def _issue(self, body: bytes) -> tuple[int, dict, dict]:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return 400, {}, {"data": {"message": "Invalid JSON"}}
        missing = [f for f in REQUIRED_ISSUE_FIELDS if not payload.get(f)]
        if missing:
            return 422, {}, {"data": {"message": f"Missing required fields: {', '.join(missing)}"}}
        with self._lock:
            for earlier in self.issued:
                same_learner = earlier["recipient_email"].lower() == payload["recipient_email"].lower() or (
                    payload.get("issuer_earner_id") and earlier.get("issuer_earner_id") == payload["issuer_earner_id"]
                )
                if same_learner and earlier["badge_template_id"] == payload["badge_template_id"]:
                    return 422, {}, {"data": {"message": "User already has this badge"}}
            self.issued.append(payload)
        badge = {"id": str(uuid.uuid4()), "state": "pending", **payload}
        return 201, {}, {"data": badge}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--org", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--events-dir", type=Path)
    args = parser.parse_args()
    fake = FakeCredly(args.org, args.token, args.port)
    if args.events_dir:
        fake.load_events_dir(args.events_dir)
    print(f"fake Credly API on {fake.base_url}", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
