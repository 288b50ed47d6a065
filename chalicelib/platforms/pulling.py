"""The pull contract: what a platform's pull.py gives backfill, sync and reconcile.

A puller reads a platform's history one page at a time and never holds more than the page it
yields (memory stays flat with the number of records). Each page carries `resume`: where the
pull goes on after it. The runner stores it only once the page is durably queued, so a pull
stopped anywhere (a crash, a deadline, a failing page) resumes at the first page not queued;
a page queued twice gives the same statements (deterministic ids).

A puller yields every page the platform answers that might not be the last, an empty one too
(records=0): the runner queues none of those, but counts them in a row, so a platform that keeps
announcing more pages and sends nothing stops the pull instead of running it forever. A page too
large for one queue message is yielded as several (`fitted`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from ..errors import OutsideFailure

Mode = Literal["backfill", "sync"]


class PullStopped(OutsideFailure):
    """The platform answers pages in a way that would never end (a next link back to a page already
    read, empty pages announcing more without end): the pull stops, its cursor at the last page
    it queued. A puller raises it naming the cause; the runner adds the platform and the cursor."""


# The most a page's document may weigh: half a queue message (1 MiB on SQS and the local outbox),
# leaving room for the message's envelope.
PAGE_BYTES = 512 * 1024


def queued_size(value: object) -> int:
    """What `value` weighs in a queue message: the UTF-8 bytes of its JSON (not its characters:
    a non-ASCII name takes two to four bytes a character)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class Page:
    # As the platform answered: its adapter translates it like a webhook document (a list: see kind).
    document: dict | list[dict]
    records: int  # records in this page (progress)
    resume: str | None  # where the pull goes on after this page (opaque to all but the puller)
    last: bool = False  # nothing follows in this run; `resume` is then where the next run starts
    total: int | None = None  # records in the whole pull, where the platform says (an ETA)
    # "event": the document is a list of canonical events already read and checked (a CSV import)
    kind: Literal["document", "event"] = "document"
    # records the platform answered for this page before the puller's own filters (None: `records`):
    # a page whose records were all filtered out still moved the pull on
    answered: int | None = None

    def no_progress(self) -> bool:
        """The platform answered nothing here, yet says more follows (the last page may be empty)."""
        return not self.last and (self.records if self.answered is None else self.answered) == 0


def fitted(page: Page, key: str, here: str | None, limit: int = PAGE_BYTES) -> Iterator[Page]:
    """`page` itself when its document fits one queue message; else the records of
    `page.document[key]` in consecutive documents that each fit, the rest of the document repeated
    in each. All but the last resume at `here`, where the page was read from, so a stop between
    them reads the page again (same statement ids: nothing doubles); the last one carries the
    page's own resume. A single record larger than `limit` travels alone. A list of events is
    passed as it is: its source (a CSV import) cuts its pages to size itself."""
    document = page.document
    if not isinstance(document, dict) or queued_size(document) <= limit:
        yield page
        return
    runs = list(_runs(document[key], limit - queued_size({**document, key: []})))
    for number, run in enumerate(runs, 1):
        final = number == len(runs)
        yield Page(
            document={**document, key: run},
            records=len(run),
            resume=page.resume if final else here,
            last=page.last and final,
            total=page.total,
            kind=page.kind,
        )


def _runs(records: list, room: int) -> Iterator[list]:
    """`records` cut in order into runs whose JSON list takes at most `room` bytes."""
    start, taken = 0, 0
    for index, record in enumerate(records):
        weight = queued_size(record) + 1  # its comma
        if index > start and taken + weight > room:
            yield records[start:index]
            start, taken = index, 0
        taken += weight
    yield records[start:]


class Puller(Protocol):
    def pages(self, mode: Mode, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        """The pages from `resume` (None: the beginning, or `since` where the mode filters by
        time); a failing page raises (TransientFailure, PlatformAuthError, ...) after the pages
        before it were yielded."""
