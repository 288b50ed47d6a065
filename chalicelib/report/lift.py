"""Activities before earning, as shares of earners against non-earners of the same teams (lift).

For each credential earned in the range: the earners are its learners (the activity counts in the
--before-days before their own earning), the non-earners the learners of the same teams the
ledger knows (from their other credentials) who never earned it by the end of the range; their
window is the --before-days before the median earning time of the credential. An activity's lift
is its share among earners over its share among non-earners: a course everyone takes scores about
1, one that only earners take has no lift figure (no non-earner did it) and ranks first.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..xapi import vocabulary as v
from . import facts
from .answers import Cell, Table
from .ledger import Ledger
from .preceding import ActivityNames
from .rates import percent, ratio

EARNERS, OTHERS = "earners", "others"


class ActivityLift:
    def __init__(self, ledger: Ledger, days: int) -> None:
        self.ledger = ledger
        self.span = timedelta(days=days)
        # learner -> (badge, group, end of the window); the window is the `days` before its end
        self.windows: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
        self.sizes: Counter[tuple[str, str]] = Counter()  # (badge, group) -> learners
        self.counts: Counter[tuple[str, str, str]] = Counter()  # (badge, group, activity) -> learners
        self.names = ActivityNames()
        self._seen: set[tuple[str, str, str]] = set()  # (learner, badge, activity)
        self._populations()

    def _populations(self) -> None:
        earned: dict[str, dict[str, datetime]] = defaultdict(dict)  # badge -> learner -> first earned in range
        earner_teams: dict[str, set[str]] = defaultdict(set)  # badge -> its earners' teams
        for credential in self.ledger.earned_in_range():
            first = earned[credential.badge].get(credential.learner, credential.earned_at)
            earned[credential.badge][credential.learner] = min(first, credential.earned_at)
            earner_teams[credential.badge].add(credential.team)
        teams: dict[str, set[str]] = defaultdict(set)  # team -> learners the ledger knows
        ever: dict[str, set[str]] = defaultdict(set)  # badge -> learners who ever earned it
        for earnings in self.ledger.earnings.values():
            for credential in earnings.values():
                teams[credential.team].add(credential.learner)
                ever[credential.badge].add(credential.learner)
        for badge, learners in earned.items():
            reference = statistics.median_low(sorted(learners.values()))
            others = set().union(*(teams[team] for team in earner_teams[badge])) - ever[badge]
            for learner, at in learners.items():
                self.windows[learner].append((badge, EARNERS, at))
            for learner in others:
                self.windows[learner].append((badge, OTHERS, reference))
            self.sizes[(badge, EARNERS)], self.sizes[(badge, OTHERS)] = len(learners), len(others)

    def add(self, statement: Mapping[str, Any]) -> None:
        learner = facts.actor_key(statement.get("actor")) or ""
        windows = self.windows.get(learner)
        if not windows or facts.verb_id(statement) not in v.ACTIVITY_VERBS:
            return
        at, activity = facts.statement_time(statement), facts.object_id(statement)
        if at is None or not activity or facts.is_connector_statement(statement):
            return
        for badge, group, end in windows:
            if at < end and end - at <= self.span:
                self.names.see(activity, at, statement)  # every statement counted: a repeat may rename it
                if (learner, badge, activity) not in self._seen:
                    self._seen.add((learner, badge, activity))
                    self.counts[(badge, group, activity)] += 1

    def table(self, top: int) -> Table:
        rows: list[tuple[Cell, ...]] = []
        for badge in sorted({b for b, _ in self.sizes}, key=self.ledger.name):
            earners, others = self.sizes[(badge, EARNERS)], self.sizes[(badge, OTHERS)]
            for rank, activity in enumerate(self._ranked(badge)[:top], 1):
                did, also = self.counts[(badge, EARNERS, activity)], self.counts[(badge, OTHERS, activity)]
                share, other_share = percent(did, earners), percent(also, others)
                rows.append(
                    (
                        self.ledger.name(badge),
                        earners,
                        others,
                        rank,
                        self.names[activity],
                        share,
                        other_share,
                        ratio(did * others, also * earners),
                    )
                )
        return Table(
            "activity_lift",
            "Activities before earning, earners against non-earners (lift)",
            "Per credential earned in the range: each activity's share of earners (in the days before "
            "earning) and of non-earners of the same teams (in the days before the median earning time); "
            "lift = earners' share / non-earners' share, empty where no non-earner did it.",
            ("credential", "earners", "non_earners", "rank", "activity", "earners_pct", "non_earners_pct", "lift"),
            rows,
        )

    def _ranked(self, badge: str) -> list[str]:
        earners, others = self.sizes[(badge, EARNERS)], self.sizes[(badge, OTHERS)]

        def key(activity: str) -> tuple[float, float, str]:
            did, also = self.counts[(badge, EARNERS, activity)], self.counts[(badge, OTHERS, activity)]
            lift = did * others / (also * earners) if also else float("inf")
            return (-lift, -did, self.names[activity])

        return sorted({a for b, g, a in self.counts if b == badge and g == EARNERS}, key=key)
