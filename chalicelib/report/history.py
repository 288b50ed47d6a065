"""The LRS as the report's source: statements of the given verbs, page by page, never all at once.

The xAPI `since`/`until` filters select by the time the LRS *stored* a statement, while the
report's range is about when things happened (`timestamp`): a backfill stores years of history
today. So the history is read by verb, whole, and the range is applied to each timestamp.

Nothing here relies on what an LRS may do differently: LrsClient.query() keeps only the
statements the filters promise, each once, and the ledger's rules (ledger.py) give the same
figures in any order, so an LRS answering oldest first counts as one answering newest first.
Statements voided after the range are asked for by id through StoredStatements: where the LRS
ignores voidedStatementId, that costs one read of the voiding statements for the run, not one
read of the whole LRS per statement.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from ..xapi import Statement
from ..xapi.lrs import LrsClient, StoredStatements

PROGRESS_EVERY = 1000  # statements between two progress lines on stderr


class LrsHistory:
    def __init__(self, lrs: LrsClient, page_size: int, progress: TextIO | None = sys.stderr) -> None:
        self.lrs = lrs
        self.page_size = page_size  # asked per page; an LRS answering fewer pages on with `more`
        self.progress = progress
        self.read = 0
        self.unfound = 0  # statements voided after the range that the LRS does not show

    def statements(self, verbs: Iterable[str]) -> Iterator[Statement]:
        for verb in verbs:
            for statement in self.lrs.query(verb=verb, limit=self.page_size):
                self._count()
                yield statement

    def voided(self, statement_ids: Iterable[str]) -> Iterator[Statement]:
        """Statements voided after the end of the range: the LRS hides them, but they stood then."""
        stored = StoredStatements(self.lrs)
        for statement_id in dict.fromkeys(statement_ids):
            statement = stored.voided(statement_id)
            if statement is None:
                self.unfound += 1
                continue
            self._count()
            yield statement

    def finish(self) -> None:
        self._say(f"\rread {self.read:,} statement(s)\n")
        if self.unfound:
            self._say(
                f"{self.unfound:,} statement(s) voided after the range could not be read (the LRS shows no "
                "voided statement): the credentials they describe are missing from what was held at its end\n"
            )

    def _count(self) -> None:
        self.read += 1
        if self.read % PROGRESS_EVERY == 0:
            self._say(f"\rread {self.read:,} statements...")

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress.write(text)
            self.progress.flush()
