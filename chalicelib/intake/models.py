"""The intake's answers as models: the routes build their bodies from these (http.Reply takes a
model), and GET /openapi.json describes them from the same classes (chalicelib/openapi.py).

Every field is always sent (the serialization schema marks each required) and nothing else is
(additionalProperties false), so the document says exactly what a caller receives.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


class Accepted(Answer):
    """Queued; the worker translates or evaluates it after the answer has gone."""

    status: Literal["accepted"] = "accepted"
    ids: list[str] = Field(description="the queue message ids: one per document, statement or report row queued")


class AcceptedCounted(Accepted):
    """Queued, with the count of items of the delivery already received (and not queued again)."""

    duplicates: int = Field(ge=0, description="items already received earlier: acknowledged, not queued again")


class Duplicate(Answer):
    """Received before: acknowledged, nothing queued."""

    status: Literal["duplicate"] = "duplicate"


class Skipped(Answer):
    """A documented rule says the connector does nothing with it: acknowledged and counted, not queued."""

    status: Literal["skipped"] = "skipped"
    rule: str = Field(description="the rule that skipped it (e.g. the platform's event type)")


class FieldError(Answer):
    """What the caller sent cannot be used; `field` names where (a dotted path, `(body)`, `line N`...)."""

    error: str = Field(examples=["recipient: missing"])
    field: str = Field(examples=["recipient"])


class Error(Answer):
    """Refused (credential, organisation, size), or the connector cannot take it now."""

    error: str
