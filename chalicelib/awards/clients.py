"""Award clients: one adapter per platform behind one small protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from ..errors import PlatformRefused, SettingsError


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    first_name: str
    last_name: str
    earner_id: str | None = None


@dataclass(frozen=True)
class AwardResult:
    vendor_id: str
    already_awarded: bool
    response: dict


# A definite refusal other than "already awarded": a dead letter with the platform's message.
AwardRejected = PlatformRefused


class AwardClient(Protocol):
    platform: str

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult: ...


class CredlyAwards:
    platform = "credly"

    def __init__(self, client: "CredlyClient") -> None:  # noqa: F821
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        from ..errors import InputError
        from ..sources.credly_api import CredlyAlreadyAwarded

        payload = {
            "recipient_email": recipient.email,
            "issued_to_first_name": recipient.first_name,
            "issued_to_last_name": recipient.last_name,
            "badge_template_id": credential_id,
            "issued_at": issued_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000"),
        }
        if recipient.earner_id:
            payload["issuer_earner_id"] = recipient.earner_id
        if evidence_url:
            payload["evidence"] = [{"type": "UrlEvidence", "url": evidence_url}]
        try:
            badge = self.client.issue_badge(payload)["data"]
        except CredlyAlreadyAwarded as already:
            return AwardResult(vendor_id="", already_awarded=True, response={"message": str(already)})
        except InputError as error:
            raise AwardRejected(str(error)) from None
        return AwardResult(vendor_id=str(badge.get("id", "")), already_awarded=False, response=badge)


class BadgrAwards:
    platform = "badgr"

    def __init__(self, client: "BadgrClient") -> None:  # noqa: F821
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        payload: dict = {
            "recipient": {"identity": recipient.email, "type": "email", "hashed": True},
            "issuedOn": issued_at.astimezone(timezone.utc).isoformat(),
            "notify": True,
        }
        if evidence_url:
            payload["evidence"] = [{"url": evidence_url}]
        assertion = self.client.issue(credential_id, payload)
        return AwardResult(vendor_id=str(assertion.get("entityId", "")), already_awarded=False, response=assertion)


class AccredibleAwards:
    platform = "accredible"

    def __init__(self, client: "AccredibleClient") -> None:  # noqa: F821
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        person = {"name": recipient.name, "email": recipient.email}
        credential: dict = {"recipient": person, "group_id": int(credential_id) if credential_id.isdigit() else credential_id,
                            "issued_on": issued_at.astimezone(timezone.utc).date().isoformat()}
        if evidence_url:
            credential["evidence_items"] = [{"description": "Evidence", "url": evidence_url}]
        created = self.client.create_credential(credential)
        return AwardResult(vendor_id=str(created.get("id", "")), already_awarded=False, response=created)


class CertifierAwards:
    platform = "certifier"

    def __init__(self, client: "CertifierClient") -> None:  # noqa: F821
        self.client = client

    def award(self, credential_id: str, recipient: Recipient, issued_at: datetime,
              evidence_url: str | None = None) -> AwardResult:
        credential: dict = {
            "groupId": credential_id,
            "recipient": {"name": recipient.name, "email": recipient.email},
            "issueDate": issued_at.astimezone(timezone.utc).date().isoformat(),
        }
        if recipient.earner_id:
            credential["customAttributes"] = {"custom.employee_id": recipient.earner_id}
        issued = self.client.create_and_issue(credential)
        return AwardResult(vendor_id=str(issued.get("id", "")), already_awarded=False, response=issued)


def award_client_for(platform: str, settings: "Settings") -> AwardClient:  # noqa: F821
    if platform == "credly":
        from ..sources.credly_api import CredlyClient

        return CredlyAwards(CredlyClient.from_settings(settings))
    if platform == "badgr":
        from ..sources.badgr_api import BadgrClient

        return BadgrAwards(BadgrClient.from_settings(settings))
    if platform == "accredible":
        from ..sources.accredible_api import AccredibleClient

        return AccredibleAwards(AccredibleClient.from_settings(settings))
    if platform == "certifier":
        from ..sources.certifier_api import CertifierClient

        return CertifierAwards(CertifierClient.from_settings(settings))
    raise SettingsError(f"unknown platform {platform!r}")
