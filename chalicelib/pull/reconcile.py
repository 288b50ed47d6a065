"""What a platform has that the LRS lacks: read the platform's history, translate it, look each
statement up in the LRS, and queue the pages holding what is missing (missed webhooks, an
outage, a wrong URL). Sending a page again is safe: statement ids are deterministic.

A statement counts as in the LRS when stored, or stored and voided since (a revoked credential's
earned statement); only an answer carrying its id says so (StoredStatements), whatever filters
the LRS honours and in whatever order it answers. The delivered-statement log is never trusted:
the LRS lacks statements the log may say it holds, so the log is forgotten (`distrust`) before a
page goes again, and the worker sends the page's statements rather than skip them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..delivery.translation import Translator
from ..errors import ConnectorError
from ..platforms.pulling import Puller
from ..queue import Queue, QueueMessage
from ..xapi.lrs import LrsClient, StoredStatements


@dataclass
class Missing:
    statement_id: str
    verb: str
    credential: str  # the statement's object id


@dataclass
class ReconcileReport:
    pages: int = 0
    statements: int = 0  # statements the platform's records give
    missing: list[Missing] = field(default_factory=list)
    pages_sent: int = 0
    unreadable_pages: list[str] = field(default_factory=list)  # why a page could not be translated


def reconcile(
    platform: str,
    puller: Puller,
    since: datetime | None,
    translator: Translator,
    lrs: LrsClient,
    queue: Queue | None,
    now: datetime,
    on_page: Callable[[ReconcileReport], None] | None = None,
    distrust: Callable[[], None] | None = None,
) -> ReconcileReport:
    """queue None: only list what is missing (a dry run). distrust: forgets the delivered-statement
    log, called once before the first page is queued again."""
    report = ReconcileReport()
    stored = StoredStatements(lrs)
    for page in puller.pages("backfill", None, since):
        report.pages += 1
        try:
            statements = translator.translate(platform, page.document, now).statements
        except ConnectorError as error:
            report.unreadable_pages.append(f"page {report.pages}: {error}")
            continue
        report.statements += len(statements)
        missing = [
            Missing(s["id"], s["verb"]["id"], s["object"].get("id", "")) for s in statements if not stored.holds(s)
        ]
        report.missing.extend(missing)
        if missing and queue is not None:
            if distrust is not None and not report.pages_sent:
                distrust()
            queue.send(QueueMessage(source=platform, body=page.document))
            report.pages_sent += 1
        if on_page:
            on_page(report)
    return report
