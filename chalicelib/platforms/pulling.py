"""The pull contract: what a platform's pull.py gives backfill, sync and reconcile.

A puller reads a platform's history one page at a time and never holds more than the page it
yields (memory stays flat with the number of records). Each page carries `resume`: where the
pull goes on after it. The runner stores it only once the page is durably queued, so a pull
stopped anywhere (a crash, a deadline, a failing page) resumes at the first page not queued;
a page queued twice gives the same statements (deterministic ids).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Literal, Protocol

Mode = Literal["backfill", "sync"]


# The most a page's document may weigh: half a queue message (1 MiB on SQS and the local outbox),
# leaving room for the message's envelope.
PAGE_BYTES = 512 * 1024


def queued_size(value: object) -> int:
    """What `value` weighs in a queue message: the UTF-8 bytes of its JSON (not its characters:
    a non-ASCII name takes two to four bytes a character)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class Page:
    document: dict  # as the platform answered: its adapter translates it like a webhook document
    records: int  # records in this page (progress)
    resume: str | None  # where the pull goes on after this page (opaque to all but the puller)
    last: bool = False  # nothing follows in this run; `resume` is then where the next run starts
    total: int | None = None  # records in the whole pull, where the platform says (an ETA)
    # "event": the document is a list of canonical events already read and checked (a CSV import)
    kind: Literal["document", "event"] = "document"


class Puller(Protocol):
    def pages(self, mode: Mode, resume: str | None, since: datetime | None = None) -> Iterator[Page]:
        """The pages from `resume` (None: the beginning, or `since` where the mode filters by
        time); a failing page raises (TransientFailure, PlatformAuthError, ...) after the pages
        before it were yielded."""
