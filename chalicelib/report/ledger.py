"""The state of every credential as of the end of the range, from the connector's own statements.

The ledger keeps one small record per earning (what the answers are about) and counts for
everything else, so its size follows the number of credentials, not of statements. Nothing it
finds depends on the order the LRS answers in (newest first, oldest first, or any other), nor on
a statement being answered twice: each question has a rule that picks its statement.

- A credential (one learner's, see facts.credential_key) may be earned more than once (a
  renewal). Its *current* earning is the latest earned statement before the end of the range:
  latest by timestamp, then by `stored`, then by statement id. It alone says whether the
  credential is held, when it expires, and the team, role and skills.
- A revocation, a decline or an expiry statement ends the earning it follows: the latest earning
  of the credential dated at or before it (an ending dated before every earning ends the first).
  A revocation is dated by its timestamp, else by when the LRS stored it (Open Badges
  revocations carry no time of their own).
- "Held" at the end of the range: the current earning, neither voided nor ended before the end,
  and its expires_at (if any) after the end. A credential voided *after* the end was still held
  then: the LRS hides it, so history.py fetches it again and it is added here like any other
  (see `voided_later`).
- A credential's name is the one its latest statement before the end gives.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..events import Kind
from ..timeutil import time_or_none
from ..xapi import vocabulary as v
from . import facts
from .facts import StatementReader

EARNED, ACCEPTED, SHARED, VIEWED = "earned", "accepted", "shared", "viewed"
STAGES = (EARNED, ACCEPTED, SHARED, VIEWED)
NO_CHANNEL = ""  # earning and accepting happen on the platform, not on a channel
NEVER = datetime.min.replace(tzinfo=UTC)  # the `stored` of a statement that has none

_VERB = {kind: verb for kind, (verb, _display) in v.VERBS.items()}
_STEPS = {_VERB[Kind.ACCEPTED]: ACCEPTED, _VERB[Kind.SHARED]: SHARED, _VERB[Kind.VIEWED]: VIEWED}
_ENDINGS = (_VERB[Kind.EXPIRED], _VERB[Kind.REJECTED])

Rank = tuple[datetime, datetime, str]  # (time, stored, statement id): the order of the rules


def credential_verbs(vocab: v.DeploymentVocabulary) -> tuple[str, ...]:
    """Every verb of the connector's own statements that the ledger reads."""
    return (*(_VERB[kind] for kind in v.VERBS), vocab.verb_revoked, v.VERB_VOIDED)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime  # exclusive: "as of the end of the range" means as of this instant

    def __contains__(self, moment: datetime) -> bool:
        return self.since <= moment < self.until


@dataclass(frozen=True)
class Credential:
    """One earning of one learner's credential, as its earned statement describes it."""

    key: str
    statement_id: str
    badge: str
    learner: str
    label: str
    email: str | None
    team: str
    job_role: str
    skills: tuple[str, ...]
    earned_at: datetime
    expires_at: datetime | None
    stored: datetime = NEVER
    organisations: tuple[str, ...] = ()  # the account it came through (facts.StatementReader.organisations)

    @property
    def rank(self) -> Rank:
        return (self.earned_at, self.stored, self.statement_id)


def month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def rank_of(statement: Mapping[str, Any], at: datetime) -> Rank:
    return (at, time_or_none(statement.get("stored")) or NEVER, str(statement.get("id", "")))


@dataclass
class Ledger:
    reader: StatementReader
    window: Window
    # key -> id -> earning
    earnings: dict[str, dict[str, Credential]] = field(default_factory=lambda: defaultdict(dict))
    names: dict[str, tuple[Rank, str]] = field(default_factory=dict)  # badge class IRI -> (latest, its name)
    revoked: dict[str, set[datetime]] = field(default_factory=lambda: defaultdict(set))  # key -> when
    ended: dict[str, set[datetime]] = field(default_factory=lambda: defaultdict(set))  # expired or declined
    voided: set[str] = field(default_factory=set)  # statement ids voided within the range
    voided_later: dict[str, None] = field(default_factory=dict)  # ... and after it: fetch them again
    steps: Counter = field(default_factory=Counter)  # (month, badge, channel, stage) -> statements
    unreadable: int = 0  # statements without a usable time
    # key -> its earnings in rank order: every answer asks again for each credential
    _orders: dict[str, list[Credential]] = field(default_factory=dict, init=False, repr=False)

    def add(self, statement: Mapping[str, Any]) -> None:
        at = facts.statement_time(statement)
        if at is None:
            self.unreadable += 1
            return
        verb = facts.verb_id(statement)
        if verb == v.VERB_VOIDED:
            self._void(statement, at)
        elif at < self.window.until:
            self._record(statement, verb, at)

    def _void(self, statement: Mapping[str, Any], at: datetime) -> None:
        target = statement.get("object")
        target_id = target.get("id") if isinstance(target, dict) else None
        if not isinstance(target_id, str):
            return
        if at < self.window.until:
            self.voided.add(target_id)
        else:
            self.voided_later[target_id] = None

    def _record(self, statement: Mapping[str, Any], verb: str, at: datetime) -> None:
        badge = facts.badge_class(statement)
        rank = rank_of(statement, at)
        if badge not in self.names or self.names[badge][0] < rank:
            self.names[badge] = (rank, facts.credential_name(statement))
        if verb in _STEPS:
            if at in self.window:
                stage = _STEPS[verb]
                where = NO_CHANNEL if stage == ACCEPTED else facts.channel(statement)
                self.steps[(month(at), badge, where, stage)] += 1
            return
        key = facts.credential_key(statement)
        if verb == _VERB[Kind.ISSUED]:
            credential = self._credential(statement, key, badge, rank)
            self.earnings[key][credential.statement_id] = credential
            self._orders.pop(key, None)
        elif verb == self.reader.vocab.verb_revoked:
            self.revoked[key].add(at)
        elif verb in _ENDINGS:
            self.ended[key].add(at)

    def _credential(self, statement: Mapping[str, Any], key: str, badge: str, rank: Rank) -> Credential:
        actor = statement.get("actor")
        return Credential(
            key=key,
            statement_id=rank[2],
            badge=badge,
            learner=facts.actor_key(actor) or "",
            label=facts.learner_label(actor),
            email=facts.learner_email(actor),
            team=self.reader.team(statement),
            job_role=self.reader.job_role(statement),
            skills=self.reader.skills(statement),
            earned_at=rank[0],
            expires_at=self.reader.expires_at(statement),
            stored=rank[1],
            organisations=self.reader.organisations(statement),
        )

    # -- reading the state ---------------------------------------------------------------------

    def _in_order(self, key: str) -> list[Credential]:
        order = self._orders.get(key)
        if order is None:
            order = self._orders[key] = sorted(self.earnings.get(key, {}).values(), key=lambda c: c.rank)
        return order

    def _ends(self, credential: Credential, endings: set[datetime]) -> bool:
        """Whether one of these endings (times) ends this earning: the latest earning at or before
        the ending's time, or the first earning for an ending dated before every earning."""
        earnings = self._in_order(credential.key)
        for at in endings:
            before = [c for c in earnings if c.earned_at <= at]
            if (before[-1] if before else earnings[0]) is credential:
                return True
        return False

    def is_revoked(self, credential: Credential) -> bool:
        return credential.statement_id in self.voided or self._ends(credential, self.revoked.get(credential.key, set()))

    def is_held(self, credential: Credential) -> bool:
        """Held at the end of the range: the credential's current earning, not revoked, declined
        or expired by then."""
        expired = credential.expires_at is not None and credential.expires_at <= self.window.until
        current = self._in_order(credential.key)[-1] is credential
        return current and not (
            self.is_revoked(credential) or expired or self._ends(credential, self.ended.get(credential.key, set()))
        )

    def earned_in_range(self) -> Iterator[Credential]:
        """Each earning within the range not revoked by its end (a renewal is an earning of its
        own; expired and declined ones are included: they were earned)."""
        for earnings in self.earnings.values():
            for credential in earnings.values():
                if credential.earned_at in self.window and not self.is_revoked(credential):
                    yield credential

    def held(self) -> Iterator[Credential]:
        """Every credential held at the end of the range, whenever it was earned."""
        for key in self.earnings:
            current = self._in_order(key)[-1]
            if self.is_held(current):
                yield current

    def name(self, badge: str) -> str:
        return self.names[badge][1] if badge in self.names and self.names[badge][1] else badge
