"""From a source of statements to the report's tables: the ledger first, then the activities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ..identity.coverage import Coverage
from ..skills import SkillsVocabulary
from ..xapi import vocabulary as v
from .answers import Options, Table, all_answers
from .extra import Extra, More
from .facts import StatementReader
from .identity import IdentitySection
from .ledger import Ledger, Window, credential_verbs
from .preceding import PrecedingActivities


class Source(Protocol):
    def statements(self, verbs: Iterable[str]) -> Iterable[Mapping[str, Any]]: ...

    def voided(self, statement_ids: Iterable[str]) -> Iterable[Mapping[str, Any]]: ...


def build_report(
    source: Source,
    vocab: v.DeploymentVocabulary,
    window: Window,
    options: Options,
    more: More = More(),
    skills: SkillsVocabulary | None = None,
    identity: Coverage | None = None,
) -> list[Table]:
    ledger = Ledger(StatementReader(vocab, skills), window)
    steps = more.linked_steps(vocab, window)
    section = (
        IdentitySection(identity, ledger.reader, window, more.filters.organisations) if identity is not None else None
    )
    for statement in source.statements(credential_verbs(vocab)):
        ledger.add(statement)
        if section is not None:
            section.add(statement)
        if steps is not None:
            steps.add(statement)
    # Two passes over the credential statements would double the reading; the few credentials
    # voided after the range are fetched one by one instead.
    for statement in source.voided(list(ledger.voided_later)):
        ledger.add(statement)
    # The activities are read after the ledger is complete: an activity only counts once the
    # credentials earned after it are known, and so no activity statement has to be kept.
    ledger = more.filters.restrict(ledger, steps)
    preceding = PrecedingActivities(ledger.earned_in_range(), options.before_days)
    extra = Extra(more, ledger, steps, options)
    for statement in source.statements(v.ACTIVITY_VERBS):
        preceding.add(statement)
        extra.activity(statement)
    for statement in source.statements(extra.search_verbs()):
        extra.search(statement)
    return all_answers(ledger, preceding, options) + extra.tables() + (section.tables() if section else [])
