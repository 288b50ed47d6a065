"""Certifier's history: every credential (GET /credentials), then each issued credential's
interactions (GET /credential-interactions?credentialId=), a credentials page at a time.

The walk: a page of credentials is queued as Certifier answered it (each credential with its group
attached, as webhooks carry it: the list names only `groupId`, and statements need the group's
name); then, for each issued or expired credential of that page, its interactions, one queued page
per non-empty answer, with the credential they belong to under `credential`; then the next page of
credentials. The adapter translates both shapes with the one mapping the webhooks use, so a listed
credential or interaction has the statement id of its webhook: pull and webhooks never double-count.
Drafts and scheduled credentials are skipped (by the adapter's rule), and their interactions not read.

Where a stopped pull goes on is a `Position` (the resume cursor): the phase, the Certifier cursor
of the credentials page being worked through, and in the interactions phase which credential of
it and the interactions cursor. Resuming in the interactions phase reads that credentials page
again (it was queued already and is not queued again) to get its credentials back; nothing
earlier is read again. The cursor holds ids and Certifier's cursors, never a learner's details.

sync: Certifier documents no updated-since filter nor sort for GET /credentials (only cursor and
limit), and none for GET /credential-interactions; new interactions arrive on old credentials,
which a watermark on credentials would never revisit. So a sync re-reads the whole walk, as a
backfill does: deterministic statement ids make a re-read cost the LRS identical re-posts
(answered "already stored"), not duplicates. Webhooks stay the prompt path; a sync is the net
under them. With `since`, credentials issued before it are left out, and their interactions not
read (Certifier cannot filter the list: it is read whole).

A page too large for one queue message is queued as several documents (pulling.fitted); all but
the last resume where the page was read from. An interactions answer that is empty yet names a
next cursor is yielded (not queued) so that the runner sees a platform announcing pages that never
come; a credential without interactions (an empty answer, no next) is not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from ...observability import log
from ...timeutil import time_or_none, utc
from ..pulling import Mode, Page, fitted
from .adapter import ISSUED_STATUSES
from .api import LIST_LIMIT, CertifierClient, CertifierNotFound, next_cursor

Phase = Literal["credentials", "interactions"]
CURSOR_VERSION = 1
EMPTY_PAGE: dict = {"data": [], "pagination": {"prev": None, "next": None}}  # translates to nothing


@dataclass(frozen=True)
class Position:
    """Where the walk goes on. credentials: read (and queue) the credentials page at `page`.
    interactions: the credentials page at `page` is queued; read the interactions of its
    `index`-th interacting credential (`credential`, to check it is still that one) at `cursor`."""

    phase: Phase = "credentials"
    page: str | None = None  # Certifier's cursor of the credentials page; None: the first page
    credential: str | None = None
    index: int = 0
    cursor: str | None = None  # Certifier's cursor of the interactions page; None: the first

    def encode(self) -> str:
        fields: dict[str, Any] = {"v": CURSOR_VERSION, "phase": self.phase, "page": self.page}
        if self.phase == "interactions":
            fields.update(credential=self.credential, index=self.index, cursor=self.cursor)
        return json.dumps(fields, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, text: str | None) -> Position:
        """The stored cursor; None (or one this version cannot read) is the beginning. Starting
        over is always safe (statement ids are deterministic), so an unreadable cursor is logged
        and the walk starts again rather than the pull failing forever."""
        if text is None:
            return cls()
        try:
            fields = json.loads(text)
            position = cls._checked(fields)
        except (ValueError, TypeError, KeyError):
            log("pull_cursor_unreadable", platform="certifier", length=len(text))
            return cls()
        return position

    @classmethod
    def _checked(cls, fields: Any) -> Position:
        if not isinstance(fields, dict) or fields.get("v") != CURSOR_VERSION:
            raise ValueError("not a version 1 cursor")
        phase, page = fields["phase"], fields["page"]
        if page is not None and not isinstance(page, str):
            raise ValueError("page")
        if phase == "credentials":
            return cls(page=page)
        if phase != "interactions":
            raise ValueError("phase")
        credential, index, cursor = fields["credential"], fields["index"], fields["cursor"]
        if not isinstance(credential, str) or isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError("credential or index")
        if cursor is not None and not isinstance(cursor, str):
            raise ValueError("cursor")
        return cls("interactions", page, credential, index, cursor)


@dataclass(frozen=True)
class Listing:
    """One page of credentials as queued, and what the walk needs from it."""

    cursor: str | None  # the cursor it was read with
    document: dict  # what is queued: the answer, its credentials (since-filtered) with their groups
    interacting: tuple[dict, ...]  # its issued or expired credentials, in order: their interactions are read
    next: str | None  # the next credentials page's cursor
    answered: int | None = None  # credentials Certifier answered, before the `since` filter

    def after(self, index: int) -> Position | None:
        """Where the walk goes after the interactions of the index-th interacting credential
        (-1: after the credentials page itself); None: nothing is left."""
        if index + 1 < len(self.interacting):
            following = self.interacting[index + 1]
            return Position("interactions", self.cursor, following["id"], index + 1)
        return Position(page=self.next) if self.next is not None else None

    def locate(self, position: Position) -> Position | None:
        """`position` in this (re-read) page. Certifier does not say whether a page read again
        with the same cursor holds the same credentials: when the credential is not where it was,
        it is looked up by id, and failing that the page's interactions are read again from its
        first credential (read again is harmless, skipped would be lost)."""
        ids = [credential["id"] for credential in self.interacting]
        if position.index < len(ids) and ids[position.index] == position.credential:
            return position
        if position.credential in ids:
            return replace(position, index=ids.index(position.credential))
        return self.after(-1)


class CertifierPuller:
    def __init__(self, client: CertifierClient, page_size: int = LIST_LIMIT) -> None:
        self.client = client
        self.page_size = page_size

    def pages(self, mode: Mode, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        position: Position | None = Position.decode(resume)
        groups: dict[str, dict | None] = {}  # this run's group lookups (a few groups, many credentials)
        listing: Listing | None = None
        while position is not None:
            if listing is None or listing.cursor != position.page or position.phase == "credentials":
                listing = self._listing(position.page, since, groups)  # on resume: read again, not queued again
            if position.phase == "credentials":
                following = listing.after(-1)
                yield from fitted(_page(listing.document, following, listing.answered), "data", position.encode())
                position = following
                continue
            located = listing.locate(position)
            if located is None or located.phase == "credentials":  # the page changed: nothing left in it
                if located is None:
                    yield _page(EMPTY_PAGE, None)  # the end must be stored: the next run starts over
                position = located
                continue
            credential = listing.interacting[located.index]
            answer = self.client.interaction_page(credential["id"], located.cursor, self.page_size)
            more = next_cursor(answer, located.cursor)
            following = replace(located, cursor=more) if more else listing.after(located.index)
            if answer["data"] or more:  # an empty one announcing more too: the runner counts those
                yield from fitted(_page({**answer, "credential": credential}, following), "data", located.encode())
            elif following is None:  # most credentials have none: only the end is yielded, empty
                yield _page(EMPTY_PAGE, None)
            position = following

    def _listing(self, cursor: str | None, since: datetime | None, groups: dict[str, dict | None]) -> Listing:
        answer = self.client.credential_page(cursor, self.page_size)
        credentials = [c for c in answer["data"] if since is None or not _issued_before(c, since)]
        credentials = [self._with_group(c, groups) if c.get("status") in ISSUED_STATUSES else c for c in credentials]
        interacting = tuple(c for c in credentials if c.get("status") in ISSUED_STATUSES and _has_id(c))
        return Listing(
            cursor, {**answer, "data": credentials}, interacting, next_cursor(answer, cursor), len(answer["data"])
        )

    def _with_group(self, credential: dict, groups: dict[str, dict | None]) -> dict:
        """The credential with `group` ({id, name}) as webhooks carry it; unchanged when it has one
        or names none (the adapter then says what is missing)."""
        group = credential.get("group")
        group_id = credential.get("groupId")
        if (isinstance(group, dict) and group.get("name")) or not isinstance(group_id, str) or not group_id:
            return credential
        if group_id not in groups:
            try:
                found = self.client.fetch_group(group_id)
            except CertifierNotFound:
                found = None
            groups[group_id] = {"id": group_id, "name": found.get("name")} if found else None
        return {**credential, "group": groups[group_id]} if groups[group_id] else credential


def _page(document: dict, following: Position | None, answered: int | None = None) -> Page:
    return Page(
        document=document,
        records=len(document["data"]),
        resume=following.encode() if following else None,
        last=following is None,
        answered=answered,
    )


def _has_id(credential: dict) -> bool:
    return isinstance(credential.get("id"), str) and bool(credential["id"])


def _issued_before(credential: dict, since: datetime) -> bool:
    issued = time_or_none(credential.get("issueDate"))
    return issued is not None and issued < utc(since)  # an unreadable one is kept: the adapter says why


PULLER = CertifierPuller  # what the registry loads
