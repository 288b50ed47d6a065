"""From a source of statements to the report's tables: the ledger first, then the activities."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol

from ..xapi import vocabulary as v
from .answers import Options, Table, all_answers
from .facts import StatementReader
from .ledger import Ledger, Window, credential_verbs
from .preceding import PrecedingActivities


class Source(Protocol):
    def statements(self, verbs: Iterable[str]) -> Iterable[Mapping[str, Any]]: ...

    def voided(self, statement_ids: Iterable[str]) -> Iterable[Mapping[str, Any]]: ...


def build_report(source: Source, vocab: v.DeploymentVocabulary, window: Window, options: Options) -> list[Table]:
    ledger = Ledger(StatementReader(vocab), window)
    for statement in source.statements(credential_verbs(vocab)):
        ledger.add(statement)
    # Two passes over the credential statements would double the reading; the few credentials
    # voided after the range are fetched one by one instead.
    for statement in source.voided(list(ledger.voided_later)):
        ledger.add(statement)
    # The activities are read after the ledger is complete: an activity only counts once the
    # credentials earned after it are known, and so no activity statement has to be kept.
    preceding = PrecedingActivities(ledger.earned_in_range(), options.before_days)
    for statement in source.statements(v.ACTIVITY_VERBS):
        preceding.add(statement)
    return all_answers(ledger, preceding, options)
