"""Which learning activities learners completed in the days before earning each credential.

Built from the ledger's credentials, then fed the learning statements (completed, passed...)
one at a time: for each, the learner's credentials earned within `days` after it count the
activity once per learner, however often it was repeated. Memory follows the credentials and
the (credential, activity) pairs found, not the number of statements read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any, Iterable, Mapping

from ..xapi import vocabulary as v
from . import facts
from .ledger import Credential


class PrecedingActivities:
    def __init__(self, earned: Iterable[Credential], days: int) -> None:
        self.window = timedelta(days=days)
        self.by_learner: dict[str, list[Credential]] = defaultdict(list)
        self.earners: Counter[str] = Counter()  # badge class -> credentials earned in the range
        for credential in earned:
            self.by_learner[credential.learner].append(credential)
            self.earners[credential.badge] += 1
        self.counts: Counter[tuple[str, str]] = Counter()  # (badge class, activity) -> learners
        self.names: dict[str, str] = {}  # activity id -> its name
        self._seen: set[tuple[str, str]] = set()  # (credential key, activity): counted once

    def add(self, statement: Mapping[str, Any]) -> None:
        # Cheapest first: most activity statements are of learners who earned nothing in the range.
        credentials = self.by_learner.get(facts.actor_key(statement.get("actor")) or "")
        if not credentials or facts.verb_id(statement) not in v.ACTIVITY_VERBS:
            return
        at = facts.statement_time(statement)
        activity = facts.object_id(statement)
        if at is None or not activity or facts.is_connector_statement(statement):
            return
        for credential in credentials:
            # A difference of two times never overflows; earned_at - window would, near year 1.
            if at < credential.earned_at and credential.earned_at - at <= self.window and (credential.key, activity) not in self._seen:
                self._seen.add((credential.key, activity))
                self.counts[(credential.badge, activity)] += 1
                self.names.setdefault(activity, facts.object_name(statement) or activity)

    def top(self, badge: str, limit: int) -> list[tuple[str, int]]:
        """The `limit` activities most learners completed before earning `badge`: (name, learners)."""
        found = [(self.names[activity], n) for (b, activity), n in self.counts.items() if b == badge]
        return sorted(found, key=lambda item: (-item[1], item[0]))[:limit]
