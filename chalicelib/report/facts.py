"""What the report reads from one statement: who, which credential, which channel, the context.

Statements come from an LRS that other systems write to as well, so every value is read
defensively: a field of the wrong type reads as absent, never as an error. They are parsed JSON,
so an object is checked as a dict: isinstance against typing's Mapping costs twenty times more,
and it runs on every field of every statement read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..awards.evaluate import statement_time  # noqa: F401  (the report reads times as the rules do)
from ..skills import SkillNames, SkillsVocabulary, statement_skills
from ..timeutil import time_or_none
from ..xapi import vocabulary as v

UNKNOWN = "unknown"
MAX_TEXT = 120  # a team, role, skill or name longer than this is cut: it is a label, not data


def verb_id(statement: Mapping[str, Any]) -> str:
    verb = statement.get("verb")
    return str(verb.get("id", "")) if isinstance(verb, dict) else ""


def actor_key(agent: object) -> str | None:
    """The agent's inverse functional identifier as one string: the same learner, the same key."""
    if not isinstance(agent, dict):
        return None
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        if isinstance(agent.get(ifi), str):
            return f"{ifi}:{agent[ifi].strip().lower() if ifi == 'mbox' else agent[ifi]}"
    account = agent.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    return None


def learner_label(agent: object) -> str:
    """The learner's name, or a short hash of the identifier: never the email itself."""
    name = text_of(agent.get("name")) if isinstance(agent, dict) else None
    if name:
        return name
    key = actor_key(agent) or ""
    return "learner-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def learner_email(agent: object) -> str | None:
    mbox = agent.get("mbox") if isinstance(agent, dict) else None
    return mbox.removeprefix("mailto:") if isinstance(mbox, str) else None


def text_of(value: object) -> str | None:
    """A label from a string; None when there is none."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_TEXT]


def name_of(value: object) -> str | None:
    """A label from a language map (its first entry) or a string."""
    if isinstance(value, dict):
        value = next((item for item in value.values() if isinstance(item, str)), None)
    return text_of(value)


def _object(statement: Mapping[str, Any]) -> Mapping[str, Any]:
    obj = statement.get("object")
    return obj if isinstance(obj, dict) else {}


def _grouping_id(statement: Mapping[str, Any]) -> str | None:
    context = statement.get("context")
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    grouping = activities.get("grouping") if isinstance(activities, dict) else None
    if isinstance(grouping, list) and grouping and isinstance(grouping[0], dict):
        return str(grouping[0].get("id") or "") or None
    return None


def badge_class(statement: Mapping[str, Any]) -> str:
    """The badge class IRI: the object of credential statements, the grouping of shares and views."""
    return _grouping_id(statement) or object_id(statement)


def object_id(statement: Mapping[str, Any]) -> str:
    return str(_object(statement).get("id") or "")


def object_name(statement: Mapping[str, Any]) -> str | None:
    definition = _object(statement).get("definition")
    return name_of(definition.get("name")) if isinstance(definition, dict) else None


def credential_name(statement: Mapping[str, Any]) -> str:
    return object_name(statement) or badge_class(statement)


def credential_key(statement: Mapping[str, Any]) -> str:
    """One learner's credential, for the statements that name the learner as actor (earned,
    accepted, declined, revoked, expired): the learner and the assertion URL in the result, or
    the badge class where there is none. The learner is part of the key because a platform may
    give several learners' credentials one URL."""
    result = statement.get("result")
    extensions = result.get("extensions") if isinstance(result, dict) else None
    assertion = extensions.get(v.BADGEASSERTION_EXTENSION) if isinstance(extensions, dict) else None
    where = assertion.get("@id") if isinstance(assertion, dict) else None
    return f"{actor_key(statement.get('actor'))}|{where if isinstance(where, str) else badge_class(statement)}"


def channel(statement: Mapping[str, Any]) -> str:
    value = _context_extensions(statement).get(v.SHARE_MEDIUM_EXTENSION)
    return (text_of(value) or UNKNOWN).lower()


def is_connector_statement(statement: Mapping[str, Any]) -> bool:
    """The connector's own statements carry the Open Badges recipe as their category."""
    context = statement.get("context")
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    category = activities.get("category") if isinstance(activities, dict) else None
    return isinstance(category, list) and any(
        isinstance(item, dict) and item.get("id") == v.OPEN_BADGES_RECIPE for item in category
    )


def _context_extensions(statement: Mapping[str, Any]) -> Mapping[str, Any]:
    context = statement.get("context")
    extensions = context.get("extensions") if isinstance(context, dict) else None
    return extensions if isinstance(extensions, dict) else {}


class StatementReader:
    """Reads the connector's own extensions, whose IRIs depend on the deployment's base."""

    def __init__(self, vocab: v.DeploymentVocabulary, skills: SkillsVocabulary | None = None) -> None:
        self.vocab = vocab
        self.skills_vocabulary = skills  # SKILLS_FILE: None counts the statements' names as they are

    def team(self, statement: Mapping[str, Any]) -> str:
        return text_of(_context_extensions(statement).get(self.vocab.ext_team)) or UNKNOWN

    def job_role(self, statement: Mapping[str, Any]) -> str:
        return text_of(_context_extensions(statement).get(self.vocab.ext_job_role)) or UNKNOWN

    def organisations(self, statement: Mapping[str, Any]) -> tuple[str, ...]:
        """What --organisation matches: the connection's organisation label and name, and the
        platform (a statement from before connections names its platform only)."""
        connection = _context_extensions(statement).get(self.vocab.ext_connection)
        named = connection if isinstance(connection, dict) else {}
        context = statement.get("context")
        platform = context.get("platform") if isinstance(context, dict) else None
        found = (text_of(named.get("organisation")), text_of(named.get("name")), text_of(platform))
        return tuple(value for value in found if value)

    def skills(self, statement: Mapping[str, Any]) -> tuple[str, ...]:
        return self.skill_names(statement).all

    def skill_names(self, statement: Mapping[str, Any]) -> SkillNames:
        """The statement's skills in canonical names, and the names nothing maps (chalicelib/skills.py)."""
        extensions = _context_extensions(statement)
        return statement_skills(
            extensions.get(self.vocab.ext_skills),
            extensions.get(self.vocab.ext_skills_canonical),
            self.skills_vocabulary,
            text_of,
        )

    def expires_at(self, statement: Mapping[str, Any]) -> datetime | None:
        """From the context extension, else the same extension in the result (other writers)."""
        result = statement.get("result")
        in_result = result.get("extensions") if isinstance(result, dict) else None
        for extensions in (_context_extensions(statement), in_result):
            if isinstance(extensions, dict) and isinstance(extensions.get(self.vocab.ext_expires_at), str):
                return time_or_none(extensions[self.vocab.ext_expires_at])
        return None
