"""The intake's answers as models: the routes build their bodies from these (http.Reply takes a
model), and GET /openapi.json describes them from the same classes (chalicelib/openapi.py).

Every field is always sent (the serialization schema marks each required) and nothing else is
(additionalProperties false), so the document says exactly what a caller receives.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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


# -- tracked share links (POST /share-links; chalicelib/share) ------------------------------------

Channel = Literal["linkedin", "facebook", "x", "email", "copy"]
HTTP_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s<>\"{}|\\^`]+$"
# Checked by a validator (a pattern's message would quote the regex to the caller), documented as a pattern.
_HttpUrl = Annotated[str, Field(max_length=2000, json_schema_extra={"pattern": HTTP_URL})]
_Given = Annotated[str, Field(min_length=1, max_length=500, pattern=r"[^\s\x1c-\x1f\x85]")]


class ShareLearner(BaseModel):
    """Who earned it, where the LRS cannot say (or to find the earned statement faster)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: _Given | None = None
    employee_id: _Given | None = Field(None, description="the learner's id in the organisation (the directory's)")
    name: _Given | None = None


class ShareLinkRequest(BaseModel):
    """A share button pressed: the credential's public page and where it is shared. The rest is read
    from the credential's earned statement in the LRS; fields given here take precedence, and when
    platform, name, badge_class and the learner are all given the LRS is not asked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    credential_url: _HttpUrl = Field(
        examples=["https://www.credly.com/badges/9f1e2d3c-4b5a-4697-8877-665544332211"],
        description="the credential's public page (its assertion URL, the object of its shares and views)",
    )
    channel: Channel
    platform: _Given | None = Field(None, description="the platform's name in the connector (as in queue messages)")
    credential_id: _Given | None = Field(None, description="default: the last path segment of credential_url")
    name: _Given | None = Field(None, description="the credential's name")
    badge_class: _HttpUrl | None = Field(
        None, description="the badge class / template IRI (the object of the earned statement)"
    )
    issuer_name: _Given | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    learner: ShareLearner | None = None

    @field_validator("credential_url", "badge_class")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(HTTP_URL, value):
            raise ValueError("must be an absolute http(s) URL")
        return value


class ShareLinkCreated(Answer):
    """The tracked link, and for LinkedIn the "add to profile" URL whose certUrl is that link."""

    status: Literal["created"] = "created"
    url: str = Field(description="the short link: GET it to reach the credential's page, counted as a view")
    channel: Channel
    linkedin_url: str | None = Field(description="LinkedIn's add-to-profile URL (channel linkedin), else null")
