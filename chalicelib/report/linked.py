"""Accepted, shared and viewed statements tied to the credential they are about.

The ledger counts these steps per month and badge class only; the cohort rates (of the credentials
earned in a month, how many were accepted or shared) and the filters (a team's shares) need each
step's credential. A share or view names the learner's credential by its assertion URL (the
object) and the learner (the actor, or for a guest's view the earner in the context); an
acceptance names it as the earned statement does. Memory follows the credentials and months,
not the statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from ..events import Kind
from ..xapi import vocabulary as v
from . import facts
from .ledger import ACCEPTED, NO_CHANNEL, SHARED, VIEWED, Credential, Window, month

STAGE_OF_VERB = {v.VERBS[Kind.ACCEPTED][0]: ACCEPTED, v.VERBS[Kind.SHARED][0]: SHARED, v.VERBS[Kind.VIEWED][0]: VIEWED}
Keys = tuple[str, str]  # the credential's key, and the key it has when its statement named no assertion


class LinkedSteps:
    def __init__(self, vocab: v.DeploymentVocabulary, window: Window) -> None:
        self.vocab = vocab
        self.window = window
        self.counts: Counter[tuple[Keys, str, str, str]] = Counter()  # (keys, month, channel, stage) -> statements

    def add(self, statement: Mapping[str, Any]) -> None:
        stage = STAGE_OF_VERB.get(facts.verb_id(statement))
        at = facts.statement_time(statement) if stage else None
        if stage is None or at is None or at not in self.window:
            return
        if stage == ACCEPTED:
            key = facts.credential_key(statement)
            self.counts[((key, key), month(at), NO_CHANNEL, stage)] += 1
            return
        learner = facts.actor_key(self._earner(statement))
        keys = (f"{learner}|{facts.object_id(statement)}", f"{learner}|{facts.badge_class(statement)}")
        self.counts[(keys, month(at), facts.channel(statement), stage)] += 1

    def _earner(self, statement: Mapping[str, Any]) -> object:
        """A guest's view names the earner in the context: an extension (xAPI 1.0.3) or a context agent (2.0)."""
        context = statement.get("context")
        context = context if isinstance(context, dict) else {}
        extensions = context.get("extensions")
        if isinstance(extensions, dict) and isinstance(extensions.get(self.vocab.ext_earner), dict):
            return extensions[self.vocab.ext_earner]
        agents = context.get("contextAgents")
        for item in agents if isinstance(agents, list) else ():
            types = item.get("relevantTypes") if isinstance(item, dict) else None
            if isinstance(types, list) and self.vocab.agent_type_earner in types:
                return item.get("agent")
        return statement.get("actor")

    def of(self, credentials: Mapping[str, Credential]) -> Iterator[tuple[Credential, str, str, str, int]]:
        """Each step of these credentials: (credential, month, channel, stage, statements)."""
        for (keys, when, channel, stage), count in self.counts.items():
            credential = credentials.get(keys[0]) or credentials.get(keys[1])
            if credential is not None:
                yield credential, when, channel, stage, count

    def ledger_steps(self, credentials: Mapping[str, Credential]) -> Counter:
        """The ledger's step counts, (month, badge, channel, stage) -> statements, for these credentials only."""
        steps: Counter = Counter()
        for credential, when, channel, stage, count in self.of(credentials):
            steps[(when, credential.badge, channel, stage)] += count
        return steps
