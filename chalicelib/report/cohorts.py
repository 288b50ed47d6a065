"""The share funnel as cohort rates: of the credentials earned in a month, how many were accepted
and shared by the end of the range, and how many views each share brought, per channel.

The share funnel (answers.py) counts statements in the month they happened; here every step
counts towards the month its credential was earned, so a month's rates compare like with like.
The first and last months of the range are 'partial' when the range cuts them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .answers import ALL_CHANNELS, Cell, Table
from .ledger import ACCEPTED, SHARED, VIEWED, Credential, Ledger, Window, month
from .linked import LinkedSteps
from .rates import percent, ratio

ALL_CREDENTIALS = "(all credentials)"
PARTIAL, WHOLE = "partial", "whole"


@dataclass
class Cohort:
    earned: int = 0
    learners: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)  # credential keys
    shared: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # channel -> credential keys
    statements: Counter = field(default_factory=Counter)  # (channel, stage) -> shares or views

    def row(self, when: str, name: str, period: str) -> tuple[Cell, ...]:
        shares, views = (sum(n for (_, s), n in self.statements.items() if s == stage) for stage in (SHARED, VIEWED))
        everywhere = set().union(*self.shared.values())
        return (
            when,
            name,
            ALL_CHANNELS,
            self.earned,
            len(self.learners),
            percent(len(self.accepted), self.earned),
            percent(len(everywhere), self.earned),
            shares,
            views,
            ratio(views, shares),
            period,
        )

    def channel_rows(self, when: str, name: str, period: str) -> list[tuple[Cell, ...]]:
        rows: list[tuple[Cell, ...]] = []
        for channel in sorted({c for c, _ in self.statements}):
            shares, views = self.statements[(channel, SHARED)], self.statements[(channel, VIEWED)]
            rows.append(
                (
                    when,
                    name,
                    channel,
                    None,
                    None,
                    None,
                    percent(len(self.shared[channel]), self.earned),
                    shares,
                    views,
                    ratio(views, shares),
                    period,
                )
            )
        return rows


def partial_months(window: Window) -> set[str]:
    """The first and last months of the range when the range does not cover them whole."""
    cut = set()
    if window.since != _month_start(window.since):
        cut.add(month(window.since))
    last = window.until - timedelta(microseconds=1)
    if window.until != _month_start(window.until):
        cut.add(month(last))
    return cut


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _cohorts(ledger: Ledger, steps: LinkedSteps) -> dict[tuple[str, str], Cohort]:
    """(month earned, badge class or '' for all) -> its cohort."""
    earned: dict[str, Credential] = {}  # key -> its latest earning in the range: a renewal takes the later steps
    for credential in sorted(ledger.earned_in_range(), key=lambda c: c.rank):
        earned[credential.key] = credential
    cohorts: dict[tuple[str, str], Cohort] = defaultdict(Cohort)
    for credential in ledger.earned_in_range():
        for badge in ("", credential.badge):
            cohort = cohorts[(month(credential.earned_at), badge)]
            cohort.earned += 1
            cohort.learners.add(credential.learner)
    for credential, _when, channel, stage, count in steps.of(earned):
        for badge in ("", credential.badge):
            _step(cohorts[(month(credential.earned_at), badge)], credential, channel, stage, count)
    return cohorts


def _step(cohort: Cohort, credential: Credential, channel: str, stage: str, count: int) -> None:
    if stage == ACCEPTED:
        cohort.accepted.add(credential.key)
        return
    cohort.statements[(channel, stage)] += count
    if stage == SHARED:
        cohort.shared[channel].add(credential.key)


def share_cohorts(ledger: Ledger, steps: LinkedSteps) -> Table:
    cut = partial_months(ledger.window)
    rows: list[tuple[Cell, ...]] = []
    cohorts = _cohorts(ledger, steps)
    for when, badge in sorted(cohorts, key=lambda key: (key[0], key[1] != "", ledger.name(key[1]))):
        period = PARTIAL if when in cut else WHOLE
        name = ledger.name(badge) if badge else ALL_CREDENTIALS
        rows.append(cohorts[(when, badge)].row(when, name, period))
        if badge:
            rows.extend(cohorts[(when, badge)].channel_rows(when, name, period))
    return Table(
        "share_cohorts",
        "Share funnel by month earned (cohort rates)",
        "Of the credentials earned in each month (not revoked): learners, % accepted and % shared by the end "
        "of the range, shares, views and views per share; channel rows split shares and views by channel; "
        f"'{PARTIAL}': the range cuts the month.",
        (
            "month",
            "credential",
            "channel",
            "earned",
            "learners",
            "accepted_pct",
            "shared_pct",
            "shares",
            "views",
            "views_per_share",
            "period",
        ),
        rows,
    )
