"""Certifier: signed webhook bodies for credentials and their interactions (shares, views), and
the list pages a pull reads (GET /credentials, GET /credential-interactions).

A listed credential gives the same statements as its `credential.issued` webhook, and a listed
interaction the same as its webhook (the statement id comes from the interaction id), so a pull
and the webhooks never count one fact twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from ...errors import DetailsRequired, InputError
from ...events import Credential, CredentialEvent, Interaction, Kind, Learner, Skipped
from ...jsonshape import object_in
from ...settings import Settings
from ...timeutil import optional_time, parse_time
from ..common import (
    Adapter,
    ParseResult,
    VendorModel,
    absolute_iri,
    email_address,
    first_text,
    parse_model,
    require_object,
)

PLATFORM = "certifier"  # its name in the registry, in statement ids and queue messages

# Interaction eventType -> (kind, channel). Every type Certifier documents is listed, so an
# unknown one is an error to look at rather than a silently wrong statement.
INTERACTIONS: dict[str, tuple[Kind, str]] = {
    "credential_viewed": (Kind.VIEWED, "web"),
    "credential_verified": (Kind.VIEWED, "verification"),
    "credential_shared_to_linkedin": (Kind.SHARED, "linkedin"),
    "credential_added_to_linkedin_profile": (Kind.SHARED, "linkedin"),
    "credential_shared_to_facebook": (Kind.SHARED, "facebook"),
    "credential_shared_to_twitter": (Kind.SHARED, "twitter"),
    "credential_shared_to_messenger": (Kind.SHARED, "messenger"),
    "credential_shared_to_whatsapp": (Kind.SHARED, "whatsapp"),
    "credential_shared_to_pinterest": (Kind.SHARED, "pinterest"),
    "credential_shared_to_telegram": (Kind.SHARED, "telegram"),
    "credential_shared_to_weibo": (Kind.SHARED, "weibo"),
    "credential_link_copied": (Kind.SHARED, "link"),
    # A download is how a learner takes the credential elsewhere (PDF, image): a share.
    "credential_downloaded": (Kind.SHARED, "download"),
}
INTERACTION_TYPES = {"credential.viewed", "credential.shared", "credential.downloaded"}
# Credential statuses Certifier documents: draft, scheduled, issued, expired. An issued or an
# expired credential was issued (the translator adds the expired statement once expiryDate has
# passed); a draft or a scheduled one has not been issued yet: skipped by rule.
ISSUED_STATUSES = frozenset({"issued", "expired"})
NOT_ISSUED_STATUSES = frozenset({"draft", "scheduled"})
EMPLOYEE_ID_ATTRIBUTES = ("custom.employee_id", "custom.employeeId", "employee_id")


class CertifierRecipient(VendorModel):
    id: str | None = None  # the recipient's own id on Certifier (the directory's certifier_id)
    name: str | None = None
    email: str | None = None


class CertifierGroup(VendorModel):
    id: str | None = None
    name: str | None = None


class CertifierCredential(VendorModel):
    id: str
    publicId: str
    groupId: str | None = None
    status: str | None = None
    name: str | None = None
    recipient: CertifierRecipient
    issueDate: str
    expiryDate: str | None = None
    updatedAt: str | None = None
    customAttributes: dict[str, object] = Field(default_factory=dict)
    group: CertifierGroup | None = None


class CertifierInteraction(VendorModel):
    id: str | None = None
    credentialId: str | None = None  # in lists; a webhook nests it under its credential
    eventType: str
    triggeredBy: str = "recipient"
    triggeredAt: str


class CertifierAdapter(Adapter):
    @classmethod
    def from_settings(cls, settings: Settings) -> CertifierAdapter:
        return cls(settings)

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.public_base = settings.certifier_public_base.rstrip("/") + "/"
        self.group_base = settings.certifier_group_base.rstrip("/") + "/"
        parts = urlsplit(self.public_base)
        self.public_home = f"{parts.scheme}://{parts.netloc}"

    def parse(self, document: object) -> ParseResult:
        body = require_object(document, "")
        if isinstance(body.get("data"), list):
            return self._list_page(body)
        event_type = body.get("type")
        event_id = first_text(body.get("id"))
        if not isinstance(event_type, str):
            raise InputError("type", "missing")
        data = require_object(body.get("data"), "data")
        if event_type == "credential.updated":
            return [Skipped(platform=PLATFORM, rule=event_type, source_event_id=event_id)]
        if event_type not in INTERACTION_TYPES | {"credential.issued", "credential.created", "credential.deleted"}:
            raise InputError("type", f"unknown Certifier webhook type {event_type!r}")
        if "credential" not in data:
            resource = object_in(data, "resource")
            resource_id = first_text(resource.get("id"))
            if not resource_id:
                raise InputError("data.credential", "missing, and no data.resource.id to fetch it by")
            raise DetailsRequired("certifier", resource_id)
        credential = parse_model(CertifierCredential, data["credential"], "data.credential")
        if event_type in INTERACTION_TYPES:
            interaction = parse_model(
                CertifierInteraction, data.get("credentialInteraction"), "data.credentialInteraction"
            )
            return [self._interaction(credential, interaction, event_id)]
        if event_type == "credential.deleted":
            return [self._event(credential, Kind.REVOKED, event_id, reason="deleted in Certifier")]
        if event_type == "credential.created" and credential.status != "issued":
            rule = "credential.created as draft"
            return [Skipped(platform=PLATFORM, rule=rule, source_event_id=event_id)]
        return [self._event(credential, Kind.ISSUED, event_id)]

    def _list_page(self, page: dict) -> ParseResult:
        """A page of GET /credentials, or a page of GET /credential-interactions?credentialId= with
        the credential it lists under `credential` (the list names only its id)."""
        items: list[Any] = page["data"]
        if "credential" not in page:
            return [event for i, item in enumerate(items) for event in self._listed_credential(item, f"data[{i}]")]
        with _relocated({"data.credential": "credential"}):
            credential = parse_model(CertifierCredential, page["credential"], "credential")
        return [self._listed_interaction(credential, item, f"data[{i}]") for i, item in enumerate(items)]

    def _listed_credential(self, item: Any, path: str) -> ParseResult:
        status = require_object(item, path).get("status")
        if status in NOT_ISSUED_STATUSES:  # before validating: a draft may lack its recipient
            return [Skipped(platform=PLATFORM, rule=f"{status} credential")]
        if status not in ISSUED_STATUSES:
            raise InputError(f"{path}.status", f"unknown Certifier credential status {status!r}")
        with _relocated({"data.credential": path}):
            credential = parse_model(CertifierCredential, item, path)
            return [self._event(credential, Kind.ISSUED, None)]

    def _listed_interaction(self, credential: CertifierCredential, item: Any, path: str) -> CredentialEvent:
        with _relocated({"data.credentialInteraction": path, "data.credential": "credential"}):
            interaction = parse_model(CertifierInteraction, require_object(item, path), path)
            if interaction.credentialId not in (None, credential.id):
                raise InputError(f"{path}.credentialId", "not the credential this page lists interactions of")
            return self._interaction(credential, interaction, None)

    def _interaction(
        self, credential: CertifierCredential, interaction: CertifierInteraction, event_id: str | None
    ) -> CredentialEvent:
        mapped = INTERACTIONS.get(interaction.eventType)
        if mapped is None:
            raise InputError(
                "data.credentialInteraction.eventType",
                f"unknown Certifier interaction {interaction.eventType!r}",
            )
        kind, channel = mapped
        event = self._event(credential, kind, event_id)
        return event.model_copy(
            update={
                "occurred_at": parse_time(interaction.triggeredAt, "data.credentialInteraction.triggeredAt"),
                "interaction": Interaction(
                    id=interaction.id,
                    channel=channel,
                    by_guest=interaction.triggeredBy == "guest",
                    platform_home=self.public_home,
                ),
            }
        )

    def _event(
        self, credential: CertifierCredential, kind: Kind, event_id: str | None, reason: str | None = None
    ) -> CredentialEvent:
        canonical = self._credential(credential)
        return CredentialEvent(
            platform=PLATFORM,
            kind=kind,
            learner=_learner(credential),
            credential=canonical,
            occurred_at=canonical.issued_at
            if kind is Kind.ISSUED
            else optional_time(credential.updatedAt, "data.credential.updatedAt"),
            source_event_id=event_id,
            reason=reason,
        )

    def _credential(self, credential: CertifierCredential) -> Credential:
        group = credential.group or CertifierGroup()
        group_id = credential.groupId or group.id
        if not group_id:
            raise InputError("data.credential.groupId", "missing")
        name = first_text(group.name, credential.name)
        if not name:
            raise InputError("data.credential.group.name", "missing (nor data.credential.name)")
        return Credential(
            id=credential.id,
            assertion_url=absolute_iri(self.public_base + credential.publicId, "data.credential.publicId"),
            template_id=group_id,
            template_iri=absolute_iri(
                self.group_base + group_id,
                "data.credential.groupId" if credential.groupId else "data.credential.group.id",
            ),
            name=name,
            issued_at=parse_time(credential.issueDate, "data.credential.issueDate"),
            expires_at=optional_time(credential.expiryDate, "data.credential.expiryDate"),
        )


@contextmanager
def _relocated(moves: dict[str, str]) -> Iterator[None]:
    """Name a field of a list item by where it is (data[3].issueDate), not where a webhook body
    has it (data.credential.issueDate): the one place errors name webhook paths."""
    try:
        yield
    except InputError as error:
        for old, new in moves.items():
            if error.field == old or error.field.startswith(old + "."):
                raise InputError(new + error.field[len(old) :], error.message) from None
        raise


def _learner(credential: CertifierCredential) -> Learner:
    attributes = credential.customAttributes
    employee_id = first_text(*(attributes.get(key) for key in EMPLOYEE_ID_ATTRIBUTES))
    recipient = credential.recipient
    email = email_address(recipient.email, "data.credential.recipient.email")
    if not (email or employee_id):
        raise InputError("data.credential.recipient.email", "missing")
    return Learner(
        name=first_text(recipient.name), email=email, earner_id=employee_id, platform_user_id=first_text(recipient.id)
    )


ADAPTER = CertifierAdapter  # what the registry loads
