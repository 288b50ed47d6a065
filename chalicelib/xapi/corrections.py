"""Correcting a statement's actor, the xAPI way: void the statement, send it again under the mapped
identity (pure: what `identity remap` sends, and what a later revocation voids).

A voided statement keeps its id (the LRS still holds it, voided), so the corrected statement gets
its own: UUIDv5 over the original statement's id and the agent it now names. The same correction
always has the same id (a rerun is answered 409, nothing doubles); a correction to another agent
later has another. The corrected statement points at the original in `context.statement`, so a
correction of a correction still derives its id from the original, which the statement builder
knows from the event alone: a later revocation voids the corrected earned statement too.

The voiding statement's actor is the connector's own agent, as for revocations: the connector
withdraws what it said itself, the learner did nothing.
"""

from __future__ import annotations

import json
import uuid

from ..identity.resolver import ResolvedLearner, ifi_of
from . import Statement
from . import vocabulary as v

# What a copy never carries over: the LRS sets these, and the id is the corrected one's own.
LRS_FIELDS = ("id", "stored", "authority", "version")


def agent_key(agent: dict) -> str:
    """The agent's identifier as one string, the same for the same learner whatever its name."""
    key, value = ifi_of(agent)
    return f"{key}:{json.dumps(value, sort_keys=True, separators=(',', ':'))}"


def corrected_id(namespace: uuid.UUID, original_id: str, agent: dict) -> str:
    return str(uuid.uuid5(namespace, f"{original_id}|actor|{agent_key(agent)}"))


def original_id(statement: Statement) -> str:
    """The id of the statement the connector first sent for this fact: the one a corrected
    statement points at, else the statement's own."""
    context = statement.get("context")
    ref = context.get("statement") if isinstance(context, dict) else None
    if isinstance(ref, dict) and ref.get("objectType") == "StatementRef" and isinstance(ref.get("id"), str):
        return ref["id"]
    return str(statement["id"])


def corrected(
    statement: Statement, learner: ResolvedLearner, namespace: uuid.UUID, vocab: v.DeploymentVocabulary
) -> Statement:
    """The statement under the learner's mapped agent, with the directory's team and job role."""
    first = original_id(statement)
    copy: Statement = {"id": corrected_id(namespace, first, learner.agent), "actor": learner.agent}
    copy.update({k: value for k, value in statement.items() if k not in (*LRS_FIELDS, "actor")})
    context = dict(copy.get("context") or {})
    extensions = dict(context.get("extensions") or {})
    for key, value in ((vocab.ext_team, learner.team), (vocab.ext_job_role, learner.job_role)):
        if value:
            extensions[key] = value
        else:
            extensions.pop(key, None)
    if extensions:
        context["extensions"] = extensions
    else:
        context.pop("extensions", None)
    context["statement"] = {"objectType": "StatementRef", "id": first}
    copy["context"] = context
    return copy


def voiding(target: Statement, connector_agent: dict, namespace: uuid.UUID, vocab: v.DeploymentVocabulary) -> Statement:
    """The connector's statement voiding `target` (carrying its connection, as revocations do)."""
    statement: Statement = {
        "id": str(uuid.uuid5(namespace, f"{target['id']}|void")),
        "actor": connector_agent,
        "verb": {"id": v.VERB_VOIDED, "display": {"en": "voided"}},
        "object": {"objectType": "StatementRef", "id": str(target["id"])},
    }
    context = target.get("context")
    connection = context.get("extensions", {}).get(vocab.ext_connection) if isinstance(context, dict) else None
    if connection is not None:
        statement["context"] = {"extensions": {vocab.ext_connection: connection}}
    return statement


def voiding_of_correction(voiding_statement: Statement, agent: dict, namespace: uuid.UUID) -> Statement:
    """A revocation's voiding statement, aimed at the corrected copy (under `agent`) of what it voids."""
    target = corrected_id(namespace, voiding_statement["object"]["id"], agent)
    return {
        **voiding_statement,
        "id": str(uuid.uuid5(namespace, f"{target}|void")),
        "object": {"objectType": "StatementRef", "id": target},
    }
