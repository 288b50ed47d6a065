"""The answers beyond the five, asked for with `report --add` and `--who-*`, and the filters.

`Extra` is fed the same streams as the five answers (credential statements, learning activities)
plus, only when the searches answer is asked for, the `searched` statements; each answer keeps
only what it needs, as the ledger does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..xapi import vocabulary as v
from . import cohorts, roles, who
from .answers import Options, Table
from .cli_options import ADDABLE
from .filters import Filters
from .ledger import Ledger, Window
from .lift import ActivityLift
from .linked import LinkedSteps
from .searches import SEARCH_VERBS, SkillSearches

ROLES, COHORTS, LIFT, SEARCHES = ADDABLE


@dataclass(frozen=True)
class More:
    add: tuple[str, ...] = ()
    who_skills: tuple[str, ...] = ()
    who_credentials: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)

    def linked_steps(self, vocab: v.DeploymentVocabulary, window: Window) -> LinkedSteps | None:
        """Steps tied to credentials, needed by the cohorts and by any filter."""
        return LinkedSteps(vocab, window) if COHORTS in self.add or self.filters.active else None


class Extra:
    def __init__(self, more: More, ledger: Ledger, steps: LinkedSteps | None, options: Options) -> None:
        self.more, self.ledger, self.steps, self.options = more, ledger, steps, options
        self.lift = ActivityLift(ledger, options.before_days) if LIFT in more.add else None
        self.searches = SkillSearches(ledger) if SEARCHES in more.add else None

    def activity(self, statement: Mapping[str, Any]) -> None:
        if self.lift is not None:
            self.lift.add(statement)

    def search_verbs(self) -> tuple[str, ...]:
        return SEARCH_VERBS if self.searches is not None else ()

    def search(self, statement: Mapping[str, Any]) -> None:
        if self.searches is not None:
            self.searches.add(statement)

    def tables(self) -> list[Table]:
        found: list[Table] = []
        if self.more.who_skills or self.more.who_credentials:
            found.append(
                who.who(self.ledger, self.more.who_skills, self.more.who_credentials, self.options.include_emails)
            )
        if ROLES in self.more.add:
            found += [roles.credentials_by_role(self.ledger), roles.roles_by_credential(self.ledger)]
        if COHORTS in self.more.add and self.steps is not None:
            found.append(cohorts.share_cohorts(self.ledger, self.steps))
        if self.lift is not None:
            found.append(self.lift.table(self.options.top))
        if self.searches is not None:
            found.append(self.searches.table(self.options.top))
        return found
