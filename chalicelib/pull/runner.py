"""Run a pull: each page the platform answers is queued as one message (the workers translate
and deliver it, in parallel on SQS), then its cursor is stored. Stopping anywhere - a crash, a
deadline, a failing page - resumes at the first page that was not queued."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from ..platforms.pulling import Mode, Puller
from ..queue import Queue, QueueMessage
from ..store import Store


# What one page may take, retries included (connect + read timeouts times the attempts): a
# scheduled run starts no page later than this before its function's time is up.
PAGE_ALLOWANCE_SECONDS = 120.0


@dataclass
class PullReport:
    platform: str
    mode: Mode
    pages: int = 0
    records: int = 0
    total: int | None = None  # records in the whole pull, where the platform says
    finished: bool = False  # False: stopped early (deadline); the next run resumes
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rate(self) -> float:
        return self.records / self.elapsed() if self.elapsed() > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        if self.total is None or rate <= 0:
            return None
        return max(0.0, (self.total - self.records) / rate)

    def as_dict(self) -> dict:
        return {"platform": self.platform, "mode": self.mode, "pages": self.pages, "records": self.records,
                "total": self.total, "finished": self.finished, "seconds": round(self.elapsed(), 3)}


def cursor_name(platform: str, mode: Mode) -> str:
    return f"pull:{platform}:{mode}"


class PullRunner:
    def __init__(self, store: Store, queue: Queue) -> None:
        self.store = store
        self.queue = queue

    def run(self, platform: str, mode: Mode, puller: Puller, *, since: datetime | None = None,
            deadline: float | None = None, on_page: Callable[[PullReport], None] | None = None,
            cursor: str | None = None) -> PullReport:
        """deadline: a time.monotonic() value after which no further page is started; cursor: where
        the position is stored, when not the platform's own for `mode` (a CSV file's)."""
        name = cursor or cursor_name(platform, mode)
        report = PullReport(platform, mode)
        for page in puller.pages(mode, self.store.cursor(name), since):
            # durable before the cursor
            self.queue.send(QueueMessage(source=platform, kind=page.kind, body=page.document))
            self.store.set_cursor(name, page.resume)
            report.pages += 1
            report.records += page.records
            report.total = page.total if page.total is not None else report.total
            report.finished = page.last
            if on_page:
                on_page(report)
            if page.last or (deadline is not None and time.monotonic() >= deadline):
                break
        else:
            report.finished = True  # the platform had no page left
        return report
