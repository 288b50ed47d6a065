"""Accredible's history: credentials (POST /v2/credentials/search), then the credential analytics
events (GET /v1/analytics) as views, in one pass; backfill reads everything, sync what changed.

Credentials. The v2 search with cursor paging (offset paging stops at 10,000 results):
{"query": {"approve": true, "updated_at[gte]": "YYYY-MM-DD"}, "sort": {"id": "asc"},
"page": {"size": 50, "cursor": <meta.cursor of the previous answer>}}. Only published credentials
are read (drafts are not the recipient's yet). Accredible documents `updated_at` as a filter with
day precision and not as a sort key (sort keys: id, recipient_name, group.name, issued_on,
expired_on): a pass reads by id, the cursor being the search engine's search_after token, and the
watermark is applied here, to the millisecond. The pass ends on an answer without a cursor or
without credentials. A page is queued as Accredible answered it, minus what an earlier sync
delivered: the adapter reads the v2 shape.

Analytics. GET /v1/analytics?start_date=&end_date=&page=&page_size= gives the organisation's
events ({"credential": {"id", "license_id"}, "event", "created_at"}), page by page until
meta.next_page is null. A row names only its credential: the ones whose event the adapter maps
(views) get it embedded, fetched with GET /v1/credentials/{id} once per run and cut down to what
the adapter reads; one that answers 404 is embedded as {"id", "found": false} (the adapter skips
it by rule). Rows of other events are left as they are, counted and logged
(`accredible_analytics_skipped`, counts by event name) and skipped by the adapter's rule
"accredible analytics event <name>": never guessed into a view or a share. The API gives rows
no id: the adapter makes one of (credential id, event, created_at), so a row read twice is the
same statement.

Watermarks. Each stream keeps `after` (a time: what is older was delivered) and `known` (the
records at or after it that were delivered too, as "time|key"). A sync pass drops what they
cover; at its end the next `after` is the pass's start minus SETTLE (the clock skew and the
search engine's lag allowed for: anything that changed while the pass ran is newer than that),
and `known` the records delivered since then, so an unchanged record is not sent again. The
server-side filters are whole days and start a day earlier than `after` (the API does not say
in which time zone it compares dates); the exact cut is made here. Nothing that changed can be
left out: a record is dropped only when its time is older than a pass that read everything
older, or when this exact version of it was delivered.

The resume cursor (JSON) holds the phase, Accredible's search cursor or the analytics page
number, the watermarks, and the pass's start and analytics end date; never a learner's details.
A backfill's last page stores none (the next backfill starts over); a sync's stores where the
next sync starts. backfill `since`: credentials issued since (day precision), events recorded
since. sync `since` applies only to a sync that has no cursor yet: what changed since.

A page too large for one queue message (embedded credentials weigh) is queued as several
documents (pulling.fitted); all but the last resume where the page was read from.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ...errors import InputError
from ...jsonshape import object_in
from ...observability import log
from ...timeutil import time_or_none, utc, xapi_timestamp
from ..common import first_text, id_text
from ..pulling import Mode, Page, PullStopped, fitted
from .adapter import IGNORED_EVENTS, INTERACTIONS
from .api import AccredibleClient

Phase = Literal["credentials", "analytics"]
PAGE_SIZE = 50  # the search's documented default
ANALYTICS_PAGE_SIZE = 50  # rows get their credential embedded: half the default keeps messages small
SETTLE = timedelta(minutes=10)
KNOWN_LIMIT = 500  # entries kept per stream; past it, records are sent again (same statement ids)
CURSOR_VERSION = 1
SORT = {"id": "asc"}
# What the adapter reads of an embedded credential (GET /v1/credentials/{id} answers much more).
CREDENTIAL_FIELDS = ("id", "name", "description", "issued_on", "expired_on", "url", "group_id", "group_name", "group")


@dataclass
class Stream:
    """One stream's watermark and where its pass stands."""

    after: datetime | None = None  # records older than this were delivered (None: nothing yet)
    known: tuple[str, ...] = ()  # "time|key" of records at or after `after` that were delivered
    page: str | int | None = None  # the search cursor / analytics page of the next request (None: the first)
    recent: list[str] = field(default_factory=list)  # delivered this pass at or after its start - SETTLE

    def __post_init__(self) -> None:
        # Asked for every record: sets beside the ordered lists, which are what is kept and encoded.
        self._known = frozenset(self.known)
        self._recent = set(self.recent)

    def delivered(self, key: str) -> bool:
        return key in self._known

    def note_recent(self, key: str) -> None:
        if len(self.recent) < KNOWN_LIMIT and key not in self._recent:
            self.recent.append(key)
            self._recent.add(key)

    def encode(self) -> dict:
        return {"after": _text(self.after), "known": list(self.known), "page": self.page, "recent": self.recent}

    @classmethod
    def decode(cls, fields: Any) -> Stream:
        if not isinstance(fields, dict):
            raise ValueError("stream")
        page = fields.get("page")
        if page is not None and not isinstance(page, (str, int)) or isinstance(page, bool):
            raise ValueError("page")
        known, recent = fields.get("known") or [], fields.get("recent") or []
        if not all(isinstance(e, str) for e in [*known, *recent]):
            raise ValueError("entries")
        return cls(after=_time(fields.get("after")), known=tuple(known), page=page, recent=list(recent))


@dataclass
class State:
    """Where the pull goes on: the resume cursor, decoded."""

    phase: Phase = "credentials"
    started: datetime | None = None  # this pass's start (None: between passes)
    since: datetime | None = None  # backfill: its `since`, kept for the pass
    end: str | None = None  # the analytics end_date of this pass (fixed: pages must not shift)
    total: int | None = None  # backfill: the credentials the search counts (for the ETA)
    credentials: Stream = field(default_factory=Stream)
    analytics: Stream = field(default_factory=Stream)

    def encode(self) -> str:
        fields = {
            "v": CURSOR_VERSION,
            "phase": self.phase,
            "started": _text(self.started),
            "since": _text(self.since),
            "end": self.end,
            "total": self.total,
            "credentials": self.credentials.encode(),
            "analytics": self.analytics.encode(),
        }
        return json.dumps(fields, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> State:
        fields = json.loads(text)
        if not isinstance(fields, dict) or fields.get("v") != CURSOR_VERSION:
            raise ValueError("version")
        if fields.get("phase") not in ("credentials", "analytics"):
            raise ValueError("phase")
        total, end = fields.get("total"), fields.get("end")
        if total is not None and not isinstance(total, int) or end is not None and not isinstance(end, str):
            raise ValueError("total/end")
        return cls(
            phase=fields["phase"],
            started=_time(fields.get("started")),
            since=_time(fields.get("since")),
            end=end,
            total=total,
            credentials=Stream.decode(fields.get("credentials")),
            analytics=Stream.decode(fields.get("analytics")),
        )

    def next_sync(self) -> State:
        """Where the next sync starts once this pass has delivered everything."""
        assert self.started is not None
        floor = self.started - SETTLE
        return State(credentials=_advanced(self.credentials, floor), analytics=_advanced(self.analytics, floor))


class AccrediblePuller:
    def __init__(
        self,
        client: AccredibleClient,
        page_size: int = PAGE_SIZE,
        analytics_page_size: int = ANALYTICS_PAGE_SIZE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.analytics_page_size = analytics_page_size
        self.clock = clock

    def pages(self, mode: Mode, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        state = self._state(mode, resume, since)
        if state.phase == "credentials":
            yield from self._credential_pages(mode, state)
        yield from self._analytics_pages(mode, state, {})

    # -- the resume cursor -------------------------------------------------------------------

    def _state(self, mode: Mode, resume: str | None, since: datetime | None) -> State:
        state = State()
        if resume is not None:
            try:
                state = State.decode(resume)
            except (ValueError, TypeError, KeyError, InputError):
                # Starting over is always safe (statement ids are deterministic): never stuck.
                log("pull_cursor_unreadable", platform="accredible", mode=mode, length=len(resume))
                state = State()
        if state.started is None:  # a new pass
            now = utc(self.clock())
            state.started, state.end = now, (now + timedelta(days=1)).date().isoformat()
            if since is not None and resume is None:
                if mode == "backfill":
                    state.since = utc(since)
                    state.analytics.after = utc(since)
                else:
                    state.credentials.after = state.analytics.after = utc(since)
        return state

    # -- credentials -------------------------------------------------------------------------

    def _credential_pages(self, mode: Mode, state: State) -> Iterator[Page]:
        stream = state.credentials
        query: dict[str, Any] = {"approve": True}
        if state.since is not None:
            query["issued_on[gte]"] = state.since.date().isoformat()
        if stream.after is not None:
            query["updated_at[gte]"] = _day_before(stream.after)
        cursor = stream.page if isinstance(stream.page, str) else None
        while True:
            here = state.encode()
            answer = self.client.search_credentials(query, SORT, self.page_size, cursor)
            records = answer["credentials"]
            meta = object_in(answer, "meta")
            next_cursor = first_text(meta.get("cursor"))
            if next_cursor is not None and next_cursor == cursor and records:
                raise PullStopped("Accredible's search answered the cursor it was given")
            kept = [r for r in records if _fresh(stream, state, _credential_entry(r), mode)]
            done = next_cursor is None or not records
            stream.page = None if done else next_cursor
            if (
                isinstance(meta.get("count"), int)
                and not isinstance(meta.get("count"), bool)
                and mode == "backfill"
                and state.since is None
            ):
                state.total = meta["count"]
            if done:
                state.phase, state.analytics.page = "analytics", None
            yield from fitted(
                Page(
                    document={"credentials": kept, "meta": meta},
                    records=len(kept),
                    resume=state.encode(),
                    total=state.total,
                    answered=len(records),
                ),
                "credentials",
                here,
            )
            if done:
                return
            cursor = next_cursor

    # -- analytics ---------------------------------------------------------------------------

    def _analytics_pages(self, mode: Mode, state: State, credentials: dict[str, dict | None]) -> Iterator[Page]:
        stream = state.analytics
        start = _day_before(stream.after) if stream.after is not None else None
        number = stream.page if isinstance(stream.page, int) and stream.page > 0 else 1
        while True:
            here = state.encode()
            answer = self.client.analytics(
                page=number, page_size=self.analytics_page_size, start_date=start, end_date=state.end
            )
            rows = answer["analytics"]
            meta = object_in(answer, "meta")
            kept = [r for r in rows if _fresh(stream, state, _analytics_entry(r), mode)]
            document = {"analytics": [self._embedded(row, credentials) for row in kept], "meta": meta}
            self._count_skipped(kept, number)
            following = _next_page(meta, number, len(rows), self.analytics_page_size)
            total = meta.get("total_count")
            if mode == "backfill" and state.since is None and isinstance(total, int) and not isinstance(total, bool):
                total += state.total or 0
            else:
                total = None
            if following is not None and rows:  # not done
                stream.page = following
                yield from fitted(
                    Page(document=document, records=len(kept), resume=state.encode(), total=total, answered=len(rows)),
                    "analytics",
                    here,
                )
                number = following
                continue
            resume = state.next_sync().encode() if mode == "sync" else None  # a backfill starts over
            yield from fitted(
                Page(document=document, records=len(kept), resume=resume, last=True, total=total), "analytics", here
            )
            return

    def _embedded(self, row: Any, credentials: dict[str, dict | None]) -> Any:
        """The row with its credential embedded, when the adapter makes a view of its event."""
        if not _mapped(row):
            return row
        named = object_in(row, "credential")
        credential_id = id_text(named.get("id")) or id_text(row.get("credential_id"))
        if credential_id is None:
            return row  # the adapter names what is missing
        if credential_id not in credentials:
            found = self.client.credential(credential_id)
            credentials[credential_id] = _cut(found) if found is not None else None
        found = credentials[credential_id]
        return {**row, "credential": found if found is not None else {"id": credential_id, "found": False}}

    @staticmethod
    def _count_skipped(rows: list, page: int) -> None:
        events = Counter(str(r.get("event"))[:60] for r in rows if isinstance(r, dict) and not _mapped(r))
        if events:
            unknown = {name: n for name, n in events.items() if name not in IGNORED_EVENTS}
            ignored = {name: n for name, n in events.items() if name in IGNORED_EVENTS}
            log(
                "accredible_analytics_skipped",
                page=page,
                skipped=sum(events.values()),
                unknown=unknown,
                ignored=ignored,
            )


def _mapped(row: Any) -> bool:
    """A row the adapter makes a view of (the others it skips by rule)."""
    return isinstance(row, dict) and isinstance(row.get("event"), str) and row["event"] in INTERACTIONS


# -- watermarks -------------------------------------------------------------------------------


def _fresh(stream: Stream, state: State, entry: tuple[datetime, str] | None, mode: Mode) -> bool:
    """Whether a record is still to be delivered (noting it when it is recent). A record without
    a readable time or id is kept: the adapter names what is wrong with it."""
    if entry is None:
        return True
    moment, key = entry
    if stream.after is not None and moment < stream.after or stream.delivered(key):
        return False
    if mode == "sync" and state.started is not None and moment >= state.started - SETTLE:
        stream.note_recent(key)
    return True


def _advanced(stream: Stream, floor: datetime) -> Stream:
    after = max(stream.after, floor) if stream.after is not None else floor
    kept: dict[str, None] = {}
    for key in (*stream.known, *stream.recent):
        moment = _time(key.split("|", 1)[0])
        if moment is not None and moment >= after:
            kept.setdefault(key)
    return Stream(after=after, known=tuple(list(kept)[-KNOWN_LIMIT:]))


def _credential_entry(record: Any) -> tuple[datetime, str] | None:
    if not isinstance(record, dict):
        return None
    moment, credential_id = _time(record.get("updated_at")), id_text(record.get("id"))
    if moment is None or credential_id is None:
        return None
    return moment, f"{xapi_timestamp(moment)}|{credential_id}"


def _analytics_entry(row: Any) -> tuple[datetime, str] | None:
    if not isinstance(row, dict):
        return None
    named = object_in(row, "credential")
    credential_id = id_text(named.get("id")) or id_text(row.get("credential_id"))
    moment, event = _time(row.get("created_at")), first_text(row.get("event"))
    if moment is None or credential_id is None or event is None:
        return None
    return moment, f"{xapi_timestamp(moment)}|{credential_id}|{event}"


def _next_page(meta: dict, number: int, rows: int, size: int) -> int | None:
    """The page after `number`: meta.next_page as documented; without meta, a full page has one."""
    if "next_page" in meta:
        following = meta.get("next_page")
        if following is None:
            return None
        if not isinstance(following, int) or isinstance(following, bool) or following <= number:
            raise PullStopped(f"Accredible's analytics page {number} names next_page {following!r}")
        return following
    return number + 1 if rows >= size else None


def _cut(credential: dict) -> dict:
    """What the adapter reads of a credential: no evidence, references or other recipient details."""
    cut = {key: credential[key] for key in CREDENTIAL_FIELDS if key in credential}
    recipient = credential.get("recipient")
    if isinstance(recipient, dict):
        meta = object_in(recipient, "meta_data")
        cut["recipient"] = {
            "name": recipient.get("name"),
            "email": recipient.get("email"),
            "meta_data": {"employee_id": meta["employee_id"]} if "employee_id" in meta else {},
        }
    return cut


def _day_before(moment: datetime) -> str:
    return (moment - timedelta(days=1)).date().isoformat()


_time = time_or_none


def _text(moment: datetime | None) -> str | None:
    return xapi_timestamp(moment) if moment is not None else None


PULLER = AccrediblePuller  # what the registry loads
