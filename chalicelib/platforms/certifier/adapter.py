"""Certifier: signed webhook bodies for credentials and their interactions (shares, views)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field

from ...errors import DetailsRequired, InputError
from ...events import Credential, CredentialEvent, Interaction, Kind, Learner, Skipped
from ...settings import Settings
from ...timeutil import optional_time, parse_time
from ..common import Adapter, ParseResult, VendorModel, first_text, parse_model, require_object

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
EMPLOYEE_ID_ATTRIBUTES = ("custom.employee_id", "custom.employeeId", "employee_id")


class CertifierRecipient(VendorModel):
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
    eventType: str
    triggeredBy: str = "recipient"
    triggeredAt: str


class CertifierAdapter(Adapter):
    @classmethod
    def from_settings(cls, settings: Settings) -> "CertifierAdapter":
        return cls(settings)

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.public_base = settings.certifier_public_base.rstrip("/") + "/"
        self.group_base = settings.certifier_group_base.rstrip("/") + "/"
        parts = urlsplit(self.public_base)
        self.public_home = f"{parts.scheme}://{parts.netloc}"

    def parse(self, document: object) -> ParseResult:
        body = require_object(document, "")
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
            resource = data.get("resource") if isinstance(data.get("resource"), dict) else {}
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
            assertion_url=self.public_base + credential.publicId,
            template_id=group_id,
            template_iri=self.group_base + group_id,
            name=name,
            issued_at=parse_time(credential.issueDate, "data.credential.issueDate"),
            expires_at=optional_time(credential.expiryDate, "data.credential.expiryDate"),
        )


def _learner(credential: CertifierCredential) -> Learner:
    attributes = credential.customAttributes
    employee_id = first_text(*(attributes.get(key) for key in EMPLOYEE_ID_ATTRIBUTES))
    recipient = credential.recipient
    if not (recipient.email or employee_id):
        raise InputError("data.credential.recipient.email", "missing")
    return Learner(name=first_text(recipient.name), email=first_text(recipient.email), earner_id=employee_id)


ADAPTER = CertifierAdapter  # what the registry loads
