"""Run a pull: each page the platform answers is queued as one message (the workers translate
and deliver it, in parallel on SQS), then its cursor is stored. Stopping anywhere - a crash, a
deadline, a failing page - resumes at the first page that was not queued.

A platform can also answer in a way that never ends: a next link leading back to an earlier page,
or empty pages that keep announcing more. The runner stops such a pull with PullStopped (an
OutsideFailure: the command exits 3), its cursor left at the last page it queued, so that a run
after the platform is fixed goes on from there. Empty pages are never queued.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .. import metrics
from ..errors import shown_id
from ..platforms.pulling import Mode, Page, Puller, PullStopped
from ..queue import Queue, QueueMessage
from ..store import RunLog

if TYPE_CHECKING:
    from ..settings import Settings


# The most one page may take in a scheduled run, retries included. A scheduled run cuts its HTTP
# tries to fit (scheduled_settings) and starts no page later than its allowance before its time is
# up: a function given at least twice this (lambda_timeout) always ends by itself.
PAGE_ALLOWANCE_SECONDS = 150.0


@dataclass(frozen=True)
class PullLimits:
    empty_pages: int = 10  # pages in a row answered empty while announcing more (PULL_MAX_EMPTY_PAGES)
    pages: int = 0  # pages one run reads at most; 0: no bound (PULL_MAX_PAGES)

    @classmethod
    def from_settings(cls, settings: Settings) -> PullLimits:
        return cls(settings.pull_max_empty_pages, settings.pull_max_pages)


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
        return {
            "platform": self.platform,
            "mode": self.mode,
            "pages": self.pages,
            "records": self.records,
            "total": self.total,
            "finished": self.finished,
            "seconds": round(self.elapsed(), 3),
        }


def request_seconds(settings: Settings) -> float:
    """The longest one request takes under `settings`: each try running to its deadline
    (HTTP_REQUEST_DEADLINE), the longest wait between two (HTTP_BACKOFF_CAP, a Retry-After too)."""
    tries = settings.http_max_attempts
    return tries * settings.http_request_deadline + (tries - 1) * settings.http_backoff_cap


def scheduled_settings(settings: Settings) -> Settings:
    """`settings` with a request's tries cut to fit PAGE_ALLOWANCE_SECONDS: as many as fit, each
    with its whole deadline (one try of the allowance itself when not even one fits). Its
    request_seconds() is then the page allowance of a scheduled run."""
    if request_seconds(settings) <= PAGE_ALLOWANCE_SECONDS:
        return settings
    deadline = min(settings.http_request_deadline, PAGE_ALLOWANCE_SECONDS)
    wait = settings.http_backoff_cap
    tries = max(1, int((PAGE_ALLOWANCE_SECONDS + wait) // (deadline + wait)))
    return settings.model_copy(update={"http_max_attempts": tries, "http_request_deadline": deadline})


def cursor_name(connection: str, mode: Mode) -> str:
    """A platform's name (its default connection: the keys it always had) or a named connection's:
    each account pulls from its own position."""
    return f"pull:{connection}:{mode}"


class _Guard:
    """What one run has seen of its cursors: it refuses a page that shows the pull cannot end."""

    def __init__(self, report: PullReport, limits: PullLimits, start: str | None) -> None:
        self.report = report
        self.limits = limits
        self.kept = start  # the cursor stored now: where a stop leaves the pull
        self.seen = {_digest(start)} if start is not None else set()  # digests: cursors can be long
        self.empty = 0

    def check(self, page: Page) -> None:
        """Before `page` is queued: PullStopped when it leads back to a cursor this run stored (a
        page split in several resumes where it was read from: that one is not a repeat), or is one
        empty page too many."""
        resume = page.resume
        if not page.last and resume is not None and resume != self.kept and _digest(resume) in self.seen:
            raise self.stop("its next page leads back to a page this run already read")
        self.empty = self.empty + 1 if page.no_progress() else 0
        if self.empty > self.limits.empty_pages:
            raise self.stop(
                f"more than {self.limits.empty_pages} pages in a row came back empty while "
                "announcing more (PULL_MAX_EMPTY_PAGES)"
            )

    def stored(self, resume: str | None) -> None:
        self.kept = resume
        if resume is not None:
            self.seen.add(_digest(resume))

    def check_budget(self, page: Page) -> None:
        """After `page`: PullStopped once the run has read its PULL_MAX_PAGES without an end."""
        if self.limits.pages and self.report.pages >= self.limits.pages and not page.last:
            raise self.stop(f"read {self.limits.pages} pages without reaching the end (PULL_MAX_PAGES)")

    def stop(self, cause: str) -> PullStopped:
        where = "the beginning" if self.kept is None else shown_id(self.kept, 120)
        return PullStopped(
            f"{self.report.platform} {self.report.mode} stopped: {cause}; the cursor stays at "
            f"the last page queued ({where}): run it again once the platform answers normally"
        )


def _pages(puller: Puller, mode: Mode, start: str | None, since: datetime | None, guard: _Guard) -> Iterator[Page]:
    """The puller's pages; a stop it raises names the platform and the cursor kept too."""
    try:
        yield from puller.pages(mode, start, since)
    except PullStopped as stopped:
        raise guard.stop(str(stopped)) from None


def _digest(cursor: str) -> bytes:
    return hashlib.blake2b(cursor.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class PullRunner:
    def __init__(self, store: RunLog, queue: Queue, limits: PullLimits | None = None) -> None:
        self.store = store
        self.queue = queue
        self.limits = limits or PullLimits.from_settings(_settings())

    def run(
        self,
        platform: str,
        mode: Mode,
        puller: Puller,
        *,
        since: datetime | None = None,
        deadline: float | None = None,
        on_page: Callable[[PullReport], None] | None = None,
        cursor: str | None = None,
    ) -> PullReport:
        """platform: a platform's or a named connection's name (its messages' source, its cursor);
        deadline: a time.monotonic() value after which no further page is started; cursor: where
        the position is stored, when not the platform's own for `mode` (a CSV file's)."""
        name = cursor or cursor_name(platform, mode)
        report = PullReport(platform, mode)
        start = self.store.cursor(name)
        guard = _Guard(report, self.limits, start)
        for page in _pages(puller, mode, start, since, guard):
            guard.check(page)
            if page.records:  # durable before the cursor; an empty page translates to nothing
                self.queue.send(QueueMessage(source=platform, kind=page.kind, body=page.document))
                metrics.count("pulled", page.records, platform)
            if not page.no_progress():  # else the cursor stays at the last page queued
                self.store.set_cursor(name, page.resume)
                guard.stored(page.resume)
            report.pages += 1
            report.records += page.records
            report.total = page.total if page.total is not None else report.total
            report.finished = page.last
            if on_page:
                on_page(report)
            if page.last or (deadline is not None and time.monotonic() >= deadline):
                break
            guard.check_budget(page)
        else:
            report.finished = True  # the platform had no page left
        return report


def _settings() -> Settings:
    from ..settings import load_settings

    return load_settings()
