"""The LRS as the report's source: statements of the given verbs, page by page, never all at once.

The xAPI `since`/`until` filters select by the time the LRS *stored* a statement, while the
report's range is about when things happened (`timestamp`): a backfill stores years of history
today. So the history is read by verb, whole, and the range is applied to each timestamp.
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TextIO

from ..xapi import Statement
from ..xapi.lrs import LrsClient

PROGRESS_EVERY = 1000  # statements between two progress lines on stderr


class LrsHistory:
    def __init__(self, lrs: LrsClient, page_size: int | None = None, progress: TextIO | None = sys.stderr) -> None:
        self.lrs = lrs
        self.page_size = page_size  # None: the LRS's own page size
        self.progress = progress
        self.read = 0

    def statements(self, verbs: Iterable[str]) -> Iterator[Statement]:
        for verb in verbs:
            params: dict[str, object] = {"verb": verb}
            if self.page_size:
                params["limit"] = self.page_size
            for statement in self.lrs.query(**params):
                self._count()
                yield statement

    def voided(self, statement_ids: Iterable[str]) -> Iterator[Statement]:
        """Statements voided after the end of the range: the LRS hides them, but they stood then."""
        for statement_id in dict.fromkeys(statement_ids):
            for statement in self.lrs.query(voidedStatementId=statement_id):
                self._count()
                yield statement

    def finish(self) -> None:
        self._say(f"\rread {self.read:,} statement(s)\n")

    def _count(self) -> None:
        self.read += 1
        if self.read % PROGRESS_EVERY == 0:
            self._say(f"\rread {self.read:,} statements...")

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress.write(text)
            self.progress.flush()
