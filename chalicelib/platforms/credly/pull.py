"""Credly's history: GET /organizations/{org}/badges, every state, following next_page_url.

Credly documents no "updated since" filter for issued badges: a sync re-reads the list, and
deterministic statement ids make a re-read cost the LRS identical re-posts, not duplicates.
A backfill reads oldest first, so badges issued meanwhile join the end instead of shifting the
pages still to come; with `since` it reads newest first (a badge issued meanwhile then repeats
one record, it never hides one) and stops at the first page reaching past `since`.

A page too large for one queue message (100 badges with long descriptions) is queued as several
documents (pulling.fitted); all but the last resume at the URL the page was read from.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ...jsonshape import object_in
from ...timeutil import time_or_none, utc
from ..pulling import Mode, Page, fitted
from .api import CredlyClient

PER_PAGE = 100  # Credly's largest page


class CredlyPuller:
    def __init__(self, client: CredlyClient) -> None:
        self.client = client

    def pages(self, mode: Mode, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        params = {"per": str(PER_PAGE), "sort": "-issued_at" if since else "issued_at"}
        here = resume  # where the page being read came from (None: the list's first page)
        for page, next_url in self.client.badge_pages(resume, params):
            metadata = object_in(page, "metadata")
            total = metadata.get("total_count")
            last = next_url is None or (since is not None and _reaches_before(page["data"], since))
            yield from fitted(
                Page(
                    document=page,
                    records=len(page["data"]),
                    resume=None if last else next_url,
                    last=last,
                    total=total if isinstance(total, int) and not since else None,
                ),
                "data",
                here,
            )
            if last:
                return
            here = next_url


def _reaches_before(badges: list, since: datetime) -> bool:
    """A newest-first page whose oldest badge was issued before `since`."""
    for badge in reversed(badges):
        issued = time_or_none(badge.get("issued_at")) if isinstance(badge, dict) else None
        if issued is not None:  # else not a badge the adapter can read: look at the one before
            return issued < utc(since)
    return False


PULLER = CredlyPuller  # what the registry loads
