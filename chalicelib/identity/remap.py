"""`identity remap`: statements the connector sent under a fallback identity, corrected once the
recipient maps (a new person in the directory, a new alias or platform id).

Each of the connector's statements whose actor the directory now maps to another agent is sent
again under that agent (xapi/corrections.py: its own deterministic id), then the original is
voided by the connector. In that order: a run stopped between the two leaves both standing, never
neither, and the next run finds the original still standing, is answered 409 for its copy and
voids it. Voided statements are not returned by the LRS, so a second run finds nothing to do.
Only a statement whose copy the LRS holds is voided: a copy the LRS refuses leaves its original
as it was (counted as refused, exit 1).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..observability import log
from ..xapi import Statement
from ..xapi import vocabulary as v
from ..xapi.corrections import corrected, voiding
from ..xapi.lrs import LrsClient
from .resolver import IdentityResolver, ifi_of


@dataclass
class RemapCounts:
    read: int = 0  # the connector's statements read
    found: int = 0  # statements under an identity the directory now maps to another agent
    re_sent: int = 0  # corrected copies the LRS stored
    voided: int = 0  # originals voided
    already_remapped: int = 0  # corrected copies the LRS held already (an earlier run)
    refused: list[str] = field(default_factory=list)  # the LRS's reasons for refused copies

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "found": self.found,
            "voided": self.voided,
            "re_sent": self.re_sent,
            "already_remapped": self.already_remapped,
            "refused": len(self.refused),
        }


def learner_verbs(vocab: v.DeploymentVocabulary) -> tuple[str, ...]:
    """The verbs of the connector's statements whose actor is the learner."""
    return (*(verb for verb, _ in v.VERBS.values()), vocab.verb_revoked)


def is_connectors(statement: Statement) -> bool:
    """One of the connector's credential statements (the recipe's category marks them all)."""
    context = statement.get("context")
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    category = activities.get("category") if isinstance(activities, dict) else None
    return isinstance(category, list) and any(
        isinstance(c, dict) and c.get("id") == v.OPEN_BADGES_RECIPE for c in category
    )


def learner_of(statement: Statement) -> dict | None:
    """The learner agent that is the statement's actor (None for a guest's view)."""
    actor = statement.get("actor")
    if not isinstance(actor, dict):
        return None
    account = actor.get("account")
    if isinstance(account, dict) and account.get("name") == v.GUEST_ACCOUNT_NAME:
        return None
    return actor


class Remapper:
    def __init__(
        self,
        resolver: IdentityResolver,
        lrs: LrsClient,
        vocab: v.DeploymentVocabulary,
        namespace: uuid.UUID,
        connector_agent: dict,
        page_size: int = 500,
        progress: Callable[[RemapCounts], None] | None = None,
    ) -> None:
        self.resolver, self.lrs, self.vocab, self.namespace = resolver, lrs, vocab, namespace
        self.connector_agent = connector_agent
        self.page_size = page_size
        self.progress = progress or (lambda counts: None)
        self.counts = RemapCounts()

    def run(self, dry_run: bool = False) -> RemapCounts:
        """Per verb: read every statement first (an LRS may page by offset, which voiding would
        shift), keeping only those to correct, then correct them in batches."""
        for verb in learner_verbs(self.vocab):
            found = list(self._to_correct(self.lrs.query(verb=verb, limit=self.page_size)))
            self.counts.found += len(found)
            if not dry_run:
                for start in range(0, len(found), self.lrs.batch_size):
                    self._correct(found[start : start + self.lrs.batch_size])
            self.progress(self.counts)
        log("identity_remap", **self.counts.as_dict(), dry_run=dry_run)
        return self.counts

    def _to_correct(self, statements: Iterable[Statement]) -> Iterator[tuple[Statement, Statement]]:
        """(original, corrected copy) of each statement whose actor now maps to another agent."""
        for statement in statements:
            self.counts.read += 1
            if self.counts.read % 1000 == 0:
                self.progress(self.counts)
            actor = learner_of(statement) if is_connectors(statement) else None
            if not actor:
                continue
            learner = self.resolver.for_agent(actor)
            if learner is not None and ifi_of(learner.agent) != ifi_of(actor):
                yield statement, corrected(statement, learner, self.namespace, self.vocab)

    def _correct(self, pairs: list[tuple[Statement, Statement]]) -> None:
        report = self.lrs.send([copy for _, copy in pairs])
        self.counts.re_sent += len(report.delivered)
        self.counts.already_remapped += len(report.already_stored)
        self._refused(report.rejected)
        held = set(report.delivered) | set(report.already_stored)
        voids = [
            voiding(original, self.connector_agent, self.namespace, self.vocab)
            for original, copy in pairs
            if copy["id"] in held
        ]
        if voids:
            voided = self.lrs.send(voids)
            self.counts.voided += len(voided.delivered)
            self._refused(voided.rejected)

    def _refused(self, rejected: list[tuple[dict, str]]) -> None:
        for statement, reason in rejected:
            self.counts.refused.append(reason)
            log("identity_remap_refused", level=logging.WARNING, statement_id=statement["id"], reason=reason)
