"""Award clients: one adapter per platform behind one small protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from ..errors import ConnectorError, SettingsError


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


class AwardRejected(ConnectorError):
    """A definite refusal other than "already awarded": a dead letter with the platform's message."""


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


def award_client_for(platform: str, settings: "Settings") -> AwardClient:  # noqa: F821
    if platform == "credly":
        from ..sources.credly_api import CredlyClient

        return CredlyAwards(CredlyClient.from_settings(settings))
    raise SettingsError(f"awarding on {platform} is not available in this version")
