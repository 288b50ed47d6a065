"""The canonical credential event: what every source adapter produces and the translator reads.

Vendors differ; statements must not. Adapters turn what a platform sent into these models, so
nothing below the adapters knows a vendor's field names.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, field_validator

from .errors import InputError


class Kind(StrEnum):
    ISSUED = "issued"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SHARED = "shared"
    VIEWED = "viewed"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_Text = TypeVar("_Text", bound=str | None)


def _encodable(value: _Text, field: str) -> _Text:
    """Text the connector encodes (ids are keys of the deterministic statement ids, UUIDv5 over
    UTF-8 bytes; emails and salts are hashed) must be valid Unicode: a lone surrogate ("\\ud800",
    which JSON parsers let through) cannot be encoded. InputError, not ValueError, so that
    pydantic passes it on to the adapter's caller as is."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(field, "not valid Unicode (a lone surrogate)") from None
    return value


class Learner(_Frozen):
    """Who earned the credential, with every identifier the source gave."""

    name: str | None = None
    email: str | None = None
    # Hashed Open Badges recipients: resolved against the learner directory later.
    email_sha256: str | None = None
    email_salt: str | None = None
    earner_id: str | None = None  # the organisation's own learner id (employee id), as a platform carries it
    platform_user_id: str | None = None

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str | None) -> str | None:
        return _encodable(value.strip().lower(), "learner.email") if value else value

    @field_validator("email_salt")
    @classmethod
    def _salt_encodable(cls, value: str | None) -> str | None:
        return _encodable(value, "learner.email_salt")


class Issuer(_Frozen):
    id: str | None = None  # the issuer's profile IRI, where the source has one
    name: str | None = None
    url: str | None = None


class Credential(_Frozen):
    """The learner's credential and the badge class / template it is an instance of."""

    id: str  # the source's own credential id: stable key of the deterministic statement ids
    assertion_url: str | None = None
    template_id: str | None = None
    template_iri: str
    name: str
    description: str | None = None
    image: str | None = None
    criteria: str | None = None
    issuer: Issuer | None = None
    skills: tuple[str, ...] = ()
    issued_at: datetime | None = None
    expires_at: datetime | None = None

    @field_validator("id")
    @classmethod
    def _id_encodable(cls, value: str) -> str:
        return _encodable(value, "credential.id")


class Interaction(_Frozen):
    """A share or a view of a credential."""

    id: str | None = None
    channel: str  # one lower-case word: linkedin, facebook, email, link, web, ...
    by_guest: bool = False
    # Where a guest came from: the account homePage of the anonymous viewer.
    platform_home: str | None = None

    @field_validator("id")
    @classmethod
    def _id_encodable(cls, value: str | None) -> str | None:
        return _encodable(value, "interaction.id")


class CredentialEvent(_Frozen):
    platform: str  # the platform's name in the registry (chalicelib/platforms): part of statement ids
    kind: Kind
    learner: Learner
    credential: Credential
    occurred_at: datetime | None = None  # from the source; None when the source gives no time
    source_event_id: str | None = None  # the delivery's id: for de-duplication, never in statements
    reason: str | None = None  # revocation reason
    interaction: Interaction | None = None
    # A minimal revoked assertion says only "this id is revoked": void, nothing more.
    minimal: bool = False
    # The named connection (account) it came through; None: the platform's default connection.
    connection: str | None = None

    @property
    def connection_name(self) -> str:
        """The connection it came through: a named one, or the platform's default (its name)."""
        return self.connection or self.platform


class Skipped(BaseModel):
    """An input deliberately not forwarded, by a documented rule; counted, never silent."""

    model_config = ConfigDict(frozen=True)

    platform: str
    rule: str
    source_event_id: str | None = None
