"""Canvas Credentials / Badgr history: a backfill walks every issuer's assertion list, a sync
reads the changed feed from a watermark.

backfill  For each issuer the account is staff of (`GET /v2/issuers`, sorted by entity id so the
          order is the same in every run), `GET /v2/issuers/{id}/assertions?include_expired=true
          &include_revoked=true&num=500`, following `Link: rel="next"`. Without the two flags
          the API silently leaves expired and revoked assertions out. With `since`, only
          assertions issued since are queued, whatever order the server lists them in (badgr-server
          lists newest first, older ones oldest first, Canvas Credentials documents no order). An
          issuer's list stops early, at the first page holding one created before `since`, only
          while every assertion this run read of it was created no later than the one before (the
          order verified, never assumed); else it is read to its end.
          Cursor: {"issuer": entity id, "index": its position, "next": link or null, "since":
          the run's `since` or null}; the last page leaves none (the next backfill starts over).
sync      `GET /v2/assertions/changed?since=<watermark>`, following `pagination.nextResults`
          while `hasNext`. The server stamps each page with `timestamp`, taken before its query
          ran: the first page's is the next run's watermark, so whatever changes during a run is
          read again by the next one (twice at worst, never lost). Cursor between runs:
          {"since": watermark}; inside a run {"next": link, "since": pending watermark}. The first
          sync reads from `since`, else from 1970-01-01T00:00:00+00:00: everything, since a sync
          with no earlier state cannot know what is already in the LRS (what a backfill delivered
          is posted again under the same ids: stored once).

Assertions in these lists name their badge class by entity id only, and the issuer-side
endpoints have no `expand=badgeclass` (only the backpack's have): each badge class is fetched
once per run (`GET /v2/badgeclasses/{id}`, cached in the puller; the registry builds a puller per
run) and embedded, trimmed to what the adapter reads, into its assertions before the page is
yielded as {"result": [...]}, the envelope BadgrAdapter.parse reads.

A page is one queue message: one larger than PAGE_BYTES (500 assertions with long
narratives) is split into several documents (pulling.fitted); all but the last resume at the start
of that page, so a stop between them reads the page again (same statement ids: nothing doubles).
A page that brings nothing to queue yet links to a next one (an empty page of the changed feed or
of an issuer's list, or one whose assertions were all issued before `since`) is yielded too, with
the assertions the platform answered, so that the runner stops a list of empty pages that never
ends; the end of an issuer's list that brought nothing is not (the walk goes on with the next
issuer: an account with many issuers without assertions is no endless list).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from ...errors import ConnectorError, InputError, shown_id
from ...observability import log
from ...timeutil import parse_time, time_or_none, utc
from ..pulling import PAGE_BYTES, Mode, Page, fitted
from .api import BadgrClient, BadgrNotFound

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a first sync without `since` reads everything
# What the adapter reads of a badge class: the rest (criteria, alignments, tags) only weighs.
BADGECLASS_FIELDS = ("entityId", "openBadgeId", "name", "description", "image")


class BadgrPuller:
    def __init__(self, client: BadgrClient, max_document_bytes: int = PAGE_BYTES) -> None:
        self.client = client
        self.max_document_bytes = max_document_bytes
        self._badgeclasses: dict[str, dict | None] = {}  # this run's: None when the API has none

    def pages(self, mode: Mode, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        if mode == "sync":
            return self._sync(decode_cursor(resume, "sync"), since)
        return self._backfill(decode_cursor(resume, "backfill"), since)

    # -- sync ----------------------------------------------------------------------------------

    def _sync(self, state: dict, since: datetime | None) -> Iterator[Page]:
        link = state.get("next")
        start = state["since"] if "since" in state else iso(since or EPOCH)
        pending = start if link else None  # the watermark this run will leave, once known
        here = encode_cursor(next=link, since=start) if link else encode_cursor(since=start)
        for page, next_url in self.client.changed_pages(start, link):
            if pending is None:  # the run's first page: its timestamp is the next run's `since`
                pending = _watermark(page, start)
            last = next_url is None
            after = encode_cursor(since=pending) if last else encode_cursor(next=next_url, since=pending)
            yield from self._emit(page["result"], here, after, last)
            here = after

    # -- backfill ------------------------------------------------------------------------------

    def _backfill(self, state: dict, since: datetime | None) -> Iterator[Page]:
        if since is None and state.get("since"):  # a resumed run keeps the filter it started with
            since = parse_time(state["since"], "cursor.since")
        kept_since = iso(since) if since else None
        issuers = sorted(self.client.issuer_ids())
        if not issuers:
            yield Page(document={"result": []}, records=0, resume=None, last=True)
            return
        # The stored issuer, or (gone meanwhile) the first one after it: sorted ids make that safe.
        first = bisect.bisect_left(issuers, state["issuer"]) if state else 0
        if first == len(issuers):  # it was the last issuer, and it is gone: nothing left
            yield Page(document={"result": []}, records=0, resume=None, last=True)
            return
        for index in range(first, len(issuers)):
            issuer = issuers[index]
            link = state.get("next") if state and issuer == state["issuer"] else None
            final_issuer = index == len(issuers) - 1
            following = (
                None
                if final_issuer
                else encode_cursor(issuer=issuers[index + 1], index=index + 1, next=None, since=kept_since)
            )
            here: str | None = encode_cursor(issuer=issuer, index=index, next=link, since=kept_since)
            order = CreationOrder()
            for page, next_url in self.client.assertion_pages(issuer, link):
                answered = page["result"]
                order.observe(answered)
                done = next_url is None or (
                    since is not None and order.newest_first and _reaches_before(answered, since)
                )
                kept = [a for a in answered if _issued_since(a, since)] if since is not None else answered
                after = (
                    following if done else encode_cursor(issuer=issuer, index=index, next=next_url, since=kept_since)
                )
                if kept or not done or final_issuer:  # an issuer's list ending with nothing: the next issuer
                    yield from self._emit(kept, here, after, done and final_issuer, len(answered))
                if done:
                    break
                here = after

    # -- pages ---------------------------------------------------------------------------------

    def _emit(
        self, assertions: list, here: str | None, after: str | None, last: bool, answered: int | None = None
    ) -> Iterator[Page]:
        """The page's assertions, badge classes embedded, as one document or (too large for one
        queue message) several, all but the last resuming at `here`, the page's start. An empty
        one too: the runner queues none, and counts those announcing more. `answered`: the
        assertions the platform answered, before the `since` filter (None: all of them)."""
        page = Page(
            document={"result": [self._expanded(a) for a in assertions]},
            records=len(assertions),
            resume=after,
            last=last,
            answered=answered,
        )
        return fitted(page, "result", here, self.max_document_bytes)

    def _expanded(self, assertion: object) -> object:
        """The assertion with its badge class object in place of the badge class's entity id."""
        if not isinstance(assertion, dict) or not isinstance(assertion.get("badgeclass"), str):
            return assertion  # already expanded, or not an assertion: the adapter says what is wrong
        badgeclass = self._badgeclass(assertion["badgeclass"])
        return {**assertion, "badgeclass": badgeclass} if badgeclass else assertion

    def _badgeclass(self, entity_id: str) -> dict | None:
        if entity_id not in self._badgeclasses:
            try:
                found = self.client.badgeclass(entity_id)
            except (BadgrNotFound, InputError):
                # Left unexpanded: the adapter refuses those assertions naming badgeclass.name,
                # so the page becomes a dead letter an operator can read and replay.
                log("badgr_badgeclass_missing", badgeclass=shown_id(entity_id))
                found = None
            self._badgeclasses[entity_id] = (
                {key: found[key] for key in BADGECLASS_FIELDS if key in found} if found else None
            )
        return self._badgeclasses[entity_id]


# -- cursors -----------------------------------------------------------------------------------

CURSOR_FIELDS: dict[str, dict[str, type]] = {
    "sync": {"since": str, "next": str},
    "backfill": {"issuer": str, "index": int, "next": str, "since": str},
}


def encode_cursor(**fields: object) -> str:
    """A cursor as stored: compact JSON, fields with no value left out."""
    return json.dumps({k: v for k, v in fields.items() if v is not None}, separators=(",", ":"), sort_keys=True)


def decode_cursor(resume: str | None, mode: Mode) -> dict:
    """The stored cursor of `mode` ({} when there is none); ConnectorError when it is not one
    this puller wrote (the pull stops rather than start somewhere it cannot tell)."""
    if resume is None:
        return {}
    try:
        state = json.loads(resume)
    except ValueError:
        state = None
    expected = CURSOR_FIELDS[mode]
    ok = isinstance(state, dict) and all(
        key in expected and isinstance(value, expected[key]) and not isinstance(value, bool)
        for key, value in state.items()
    )
    required = "since" if mode == "sync" else "issuer"
    if not ok or required not in state:
        raise ConnectorError(
            f"the stored Canvas Credentials {mode} cursor is not one this connector wrote: {shown_id(resume)}"
        )
    if "since" in state:
        _aware(state["since"])
    return state


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with its offset: 2026-11-30T10:00:00+00:00 (Badgr reads a naive time as
    its server's local time, or refuses it)."""
    return utc(moment).isoformat()


def _aware(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ConnectorError(f"a Canvas Credentials cursor time without its offset: {shown_id(text)}")
    return moment


def _watermark(page: dict, start: str) -> str:
    """The page's server timestamp, in UTC; without a usable one, the run's own `since` (the
    next run then reads this one's changes again rather than miss any)."""
    try:
        return iso(parse_time(page.get("timestamp"), "timestamp"))
    except InputError:
        log("badgr_changed_without_timestamp", kept_since=start)
        return start


def _created(assertion: object) -> datetime | None:
    if not isinstance(assertion, dict):
        return None
    return time_or_none(assertion.get("createdAt")) or time_or_none(assertion.get("issuedOn"))


class CreationOrder:
    """The order a list has shown so far. Stopping at `since` is only safe in a list seen to be
    newest first: every assertion created no later than the one before it, one at least earlier."""

    def __init__(self) -> None:
        self._last: datetime | None = None
        self._descending = False
        self._ascending = False

    def observe(self, assertions: list) -> None:
        for created in filter(None, map(_created, assertions)):
            if self._last is not None:
                self._ascending = self._ascending or created > self._last
                self._descending = self._descending or created < self._last
            self._last = created

    @property
    def newest_first(self) -> bool:
        return self._descending and not self._ascending


def _reaches_before(assertions: list, since: datetime) -> bool:
    """A newest-first page whose oldest readable assertion was created before `since`."""
    for assertion in reversed(assertions):
        created = _created(assertion)
        if created is not None:
            return created < utc(since)
    return False


def _issued_since(assertion: object, since: datetime) -> bool:
    """Issued at or after `since`; one whose issuedOn cannot be read is kept (the adapter says why)."""
    issued = time_or_none(assertion.get("issuedOn")) if isinstance(assertion, dict) else None
    return issued is None or issued >= utc(since)


PULLER = BadgrPuller  # what the registry loads
