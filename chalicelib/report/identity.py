"""The identity coverage section: the recipients of the connector's statements in the range, and
how many of them the learner directory maps, counted by identity/coverage.py (the figures of
`identity check --only lrs`, for the range and organisations of the report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..identity.coverage import LRS_SOURCE, Coverage
from .answers import Table
from .facts import StatementReader, statement_time
from .filters import folded
from .ledger import Window


class IdentitySection:
    def __init__(
        self, coverage: Coverage, reader: StatementReader, window: Window, organisations: tuple[str, ...] = ()
    ) -> None:
        self.coverage, self.reader, self.window = coverage, reader, window
        self.organisations = folded(organisations)  # --organisation: only these rows

    def add(self, statement: Mapping[str, Any]) -> None:
        at = statement_time(statement)
        if at is None or at not in self.window:
            return
        if self.organisations and not self.organisations & folded(self.reader.organisations(statement)):
            return
        self.coverage.add_statement(dict(statement))

    def tables(self) -> list[Table]:
        return self.coverage.tables((LRS_SOURCE,))
