"""Which learning activities learners completed in the days before earning each credential.

Built from the ledger's earnings in the range, then fed the learning statements (completed,
passed...) one at a time: an activity counts once per learner and credential (badge class) when
the learner completed it within `days` before one of her earnings of it, however often she
repeated the activity or earned the credential (a renewal). Memory follows the earnings and the
(credential, activity, learner) triples found, not the number of statements read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ..xapi import vocabulary as v
from . import facts
from .ledger import Credential

ActivityName = tuple[datetime, str, str]  # (time, statement id, name) of the latest statement naming it


class ActivityNames:
    """Each activity's name as its latest statement gives it (by time, then statement id), so
    the same in any order: a course renamed under the same IRI shows its newer name."""

    def __init__(self) -> None:
        self._latest: dict[str, ActivityName] = {}

    def see(self, activity: str, at: datetime, statement: Mapping[str, Any]) -> None:
        name = (at, str(statement.get("id", "")), facts.object_name(statement) or activity)
        if activity not in self._latest or self._latest[activity] < name:
            self._latest[activity] = name

    def __getitem__(self, activity: str) -> str:
        return self._latest[activity][2]


class PrecedingActivities:
    def __init__(self, earned: Iterable[Credential], days: int) -> None:
        self.window = timedelta(days=days)
        self.by_learner: dict[str, list[Credential]] = defaultdict(list)
        self.earners: dict[str, set[str]] = defaultdict(set)  # badge class -> learners who earned it
        self.earnings: Counter[str] = Counter()  # badge class -> earnings in the range (renewals too)
        for credential in earned:
            self.by_learner[credential.learner].append(credential)
            self.earners[credential.badge].add(credential.learner)
            self.earnings[credential.badge] += 1
        self.counts: Counter[tuple[str, str]] = Counter()  # (badge class, activity) -> learners
        self.names = ActivityNames()
        self._seen: set[tuple[str, str, str]] = set()  # (badge, activity, learner): counted once

    def add(self, statement: Mapping[str, Any]) -> None:
        # Cheapest first: most activity statements are of learners who earned nothing in the range.
        learner = facts.actor_key(statement.get("actor")) or ""
        credentials = self.by_learner.get(learner)
        if not credentials or facts.verb_id(statement) not in v.ACTIVITY_VERBS:
            return
        at = facts.statement_time(statement)
        activity = facts.object_id(statement)
        if at is None or not activity or facts.is_connector_statement(statement):
            return
        for credential in credentials:
            # A difference of two times never overflows; earned_at - window would, near year 1.
            if at < credential.earned_at and credential.earned_at - at <= self.window:
                self._count(credential.badge, activity, learner)
                self.names.see(activity, at, statement)

    def _count(self, badge: str, activity: str, learner: str) -> None:
        if (badge, activity, learner) not in self._seen:
            self._seen.add((badge, activity, learner))
            self.counts[(badge, activity)] += 1

    def name(self, activity: str) -> str:
        return self.names[activity]

    def top(self, badge: str, limit: int) -> list[tuple[str, int]]:
        """The `limit` activities most learners completed before earning `badge`: (name, learners)."""
        found = [(self.name(activity), n) for (b, activity), n in self.counts.items() if b == badge]
        return sorted(found, key=lambda item: (-item[1], item[0]))[:limit]
