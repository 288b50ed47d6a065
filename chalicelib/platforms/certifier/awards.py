"""Awarding on Certifier: create a draft credential in a group, then issue it."""

from __future__ import annotations

from datetime import datetime

from ...errors import ConnectorError, PlatformRefused
from ...timeutil import utc
from ..awarding import AwardRejected, AwardResult, Recipient, plain_id, rejections
from .api import CertifierClient

DRAFTS_REMEMBERED = 1000  # drafts whose issue failed, kept for a retry in this process


def credential_id(value: str) -> str:
    """A rules file's Certifier credential: a group id."""
    return plain_id(value, "Certifier group id")


class CertifierAwards:
    """Create a draft, then issue it. When the issue fails transiently the draft id is kept (in
    this process), so the retry issues that draft instead of creating another; a retry in another
    process creates a second draft, which is never issued nor sent (harmless, visible in
    Certifier). An issue answered with a refusal because the draft is issued already (a first
    attempt that timed out after Certifier acted) is read back and counts as the award."""

    platform = "certifier"

    def __init__(self, client: CertifierClient) -> None:
        self.client = client
        self._drafts: dict[tuple[str, str], str] = {}  # (group id, email) -> draft id

    def award(
        self,
        credential_id: str,
        recipient: Recipient,
        issued_at: datetime,
        evidence_url: str | None = None,
        credential_name: str | None = None,
    ) -> AwardResult:
        # Certifier's create has no evidence field: evidence_url is not sent.
        key = (credential_id, recipient.email.lower())
        draft_id = self._drafts.get(key) or self._create(certifier_credential(credential_id, recipient, issued_at))
        self._remember(key, draft_id)
        issued = self._issue(draft_id)
        self._drafts.pop(key, None)
        return AwardResult(vendor_id=str(issued.get("id") or draft_id), already_awarded=False, response=issued)

    def _create(self, body: dict) -> str:
        with rejections():
            return str(self.client.create_credential(body)["id"])

    def _issue(self, draft_id: str) -> dict:
        try:
            return self.client.issue_credential(draft_id)
        except PlatformRefused as refusal:
            current = self._current(draft_id)
            if current.get("status") == "issued":
                return current
            self._drafts = {k: v for k, v in self._drafts.items() if v != draft_id}
            raise AwardRejected(str(refusal)) from None

    def _current(self, draft_id: str) -> dict:
        try:
            return self.client.fetch_credential(draft_id)
        except ConnectorError:  # not found or unreadable: the refusal stands
            return {}

    def _remember(self, key: tuple[str, str], draft_id: str) -> None:
        self._drafts[key] = draft_id
        while len(self._drafts) > DRAFTS_REMEMBERED:  # bounded: a long outage must not grow memory
            self._drafts.pop(next(iter(self._drafts)))


def certifier_credential(group_id: str, recipient: Recipient, issued_at: datetime) -> dict:
    body: dict = {
        "groupId": group_id,
        "recipient": {"name": recipient.name, "email": recipient.email},
        "issueDate": utc(issued_at).date().isoformat(),
    }
    if recipient.earner_id:  # the Certifier adapter reads the learner id back from this attribute
        body["customAttributes"] = {"custom.employee_id": recipient.earner_id}
    return body


AWARDS = CertifierAwards  # what the registry loads
