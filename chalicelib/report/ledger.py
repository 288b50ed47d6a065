"""The state of every credential as of the end of the range, from the connector's own statements.

The ledger keeps one small record per credential earned (what the answers are about) and counts
for everything else, so its size follows the number of credentials, not of statements. It takes
statements in any order: the LRS pages newest first, and a revocation may come before its
credential.

"Held" at the end of the range means earned before it, and neither revoked (a voiding statement
or a revoked statement), declined, nor expired (an expired statement, or expires_at passed) by
then. A credential voided after the end of the range was still held at the end: the LRS hides it,
so history.py fetches it again and it is added here like any other (see `voided_later`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping

from ..events import Kind
from ..xapi import vocabulary as v
from . import facts
from .facts import StatementReader

EARNED, ACCEPTED, SHARED, VIEWED = "earned", "accepted", "shared", "viewed"
STAGES = (EARNED, ACCEPTED, SHARED, VIEWED)
NO_CHANNEL = ""  # earning and accepting happen on the platform, not on a channel

_VERB = {kind: verb for kind, (verb, _display) in v.VERBS.items()}
_STEPS = {_VERB[Kind.ACCEPTED]: ACCEPTED, _VERB[Kind.SHARED]: SHARED, _VERB[Kind.VIEWED]: VIEWED}
_ENDINGS = (_VERB[Kind.EXPIRED], _VERB[Kind.REJECTED])


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
    """One learner's credential, as its earned statement describes it."""

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


def month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


@dataclass
class Ledger:
    reader: StatementReader
    window: Window
    credentials: dict[str, Credential] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # badge class IRI -> its name
    revoked: dict[str, datetime] = field(default_factory=dict)  # credential key -> when
    ended: dict[str, datetime] = field(default_factory=dict)  # expired or declined
    voided: set[str] = field(default_factory=set)  # statement ids voided within the range
    voided_later: list[str] = field(default_factory=list)  # ... and after it: fetch them again
    steps: Counter = field(default_factory=Counter)  # (month, badge, channel, stage) -> statements
    unreadable: int = 0  # statements without a usable time

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
        target_id = target.get("id") if isinstance(target, Mapping) else None
        if not isinstance(target_id, str):
            return
        if at < self.window.until:
            self.voided.add(target_id)
        else:
            self.voided_later.append(target_id)

    def _record(self, statement: Mapping[str, Any], verb: str, at: datetime) -> None:
        badge = facts.badge_class(statement)
        self.names.setdefault(badge, facts.credential_name(statement))
        if verb in _STEPS:
            if at in self.window:
                stage = _STEPS[verb]
                where = NO_CHANNEL if stage == ACCEPTED else facts.channel(statement)
                self.steps[(month(at), badge, where, stage)] += 1
            return
        key = facts.credential_key(statement)
        if verb == _VERB[Kind.ISSUED]:
            self.credentials.setdefault(key, self._credential(statement, key, badge, at))
        elif verb == self.reader.vocab.verb_revoked:
            self.revoked[key] = min(at, self.revoked.get(key, at))
        elif verb in _ENDINGS:
            self.ended[key] = min(at, self.ended.get(key, at))

    def _credential(self, statement: Mapping[str, Any], key: str, badge: str, at: datetime) -> Credential:
        actor = statement.get("actor")
        return Credential(
            key=key, statement_id=str(statement.get("id", "")), badge=badge,
            learner=facts.actor_key(actor) or "", label=facts.learner_label(actor), email=facts.learner_email(actor),
            team=self.reader.team(statement), job_role=self.reader.job_role(statement),
            skills=self.reader.skills(statement), earned_at=at, expires_at=self.reader.expires_at(statement),
        )

    # -- reading the state ---------------------------------------------------------------------

    def is_revoked(self, credential: Credential) -> bool:
        return credential.statement_id in self.voided or credential.key in self.revoked

    def is_held(self, credential: Credential) -> bool:
        """Held at the end of the range (credentials earned after it are not in the ledger)."""
        expired = credential.expires_at is not None and credential.expires_at <= self.window.until
        return not (self.is_revoked(credential) or expired or credential.key in self.ended)

    def earned_in_range(self) -> Iterator[Credential]:
        """Credentials earned within the range and not revoked by its end (expired ones included:
        they were earned)."""
        for credential in self.credentials.values():
            if credential.earned_at in self.window and not self.is_revoked(credential):
                yield credential

    def held_from_range(self) -> Iterator[Credential]:
        """Credentials earned within the range and still held at its end."""
        return (c for c in self.earned_in_range() if self.is_held(c))

    def held(self) -> Iterator[Credential]:
        """Every credential held at the end of the range, whenever it was earned."""
        return (c for c in self.credentials.values() if self.is_held(c))

    def name(self, badge: str) -> str:
        return self.names.get(badge) or badge
